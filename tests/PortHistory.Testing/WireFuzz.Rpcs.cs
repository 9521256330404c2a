using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsCheck;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>How each kind of RPC is called: one request, a stream of batches, an import stream.</summary>
public sealed partial class WireFuzz
{
    // ---- The RPCs ----

    private interface IRpc
    {
        string Name { get; }

        /// <returns>False when the drawn message could not be encoded and nothing was sent.</returns>
        Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg);
    }

    /// <summary>A unary or server-streaming RPC: its one request generated, or its encoding mutated and sent as bytes.</summary>
    private sealed class SingleRequestRpc<TRequest>(
        string service,
        string method,
        MethodType type,
        Gen<TRequest> requests,
        Gen<Caller> callers,
        MessageParser<TRequest> parser,
        Func<GrpcChannel, TRequest, CallOptions, Task<object?>> call,
        Action<WireFuzz, TRequest>? touch = null,
        Action<WireFuzz, TRequest, object>? answered = null,
        bool endless = false) : IRpc
        where TRequest : class, IMessage<TRequest>
    {
        private readonly Method<byte[], byte[]> _raw = new(type, service, method, Bytes, Bytes);

        public string Name { get; } = $"{service[(service.LastIndexOf('.') + 1)..]}/{method}";

        public async Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg)
        {
            var caller = Draw(callers, pcg);
            var raw = Draw(RawShare, pcg);
            var request = Draw(requests, pcg);
            Mutation[] mutations = raw ? Draw(MutationsGen, pcg) : [];
            var options = Options(caller, pcg, CallTimeout);
            if (!TryEncode(request, out var encoded)) return false;

            if (!raw)
            {
                touch?.Invoke(fuzz, request);
                var outcome = await Observe(async () =>
                {
                    if (await call(fuzz.ChannelOf(caller), request, options) is { } response) answered?.Invoke(fuzz, request, response);
                });
                fuzz.Record(index, Name, caller, raw: false, outcome, undecodable: false, readBeforeHandlers: true);
                return true;
            }

            var payload = Mutate(encoded, mutations);
            var decoded = TryParse(parser, payload);
            if (decoded is not null) touch?.Invoke(fuzz, decoded);
            var rawOutcome = await Observe(async () =>
            {
                var invoker = fuzz.InvokerOf(caller);
                if (_raw.Type == MethodType.Unary)
                {
                    using var unary = invoker.AsyncUnaryCall(_raw, null, options, payload);
                    var response = await unary.ResponseAsync;
                    if (decoded is not null) answered?.Invoke(fuzz, decoded, response);
                }
                else
                {
                    using var stream = invoker.AsyncServerStreamingCall(_raw, null, options, payload);
                    // A stream that never ends by itself (Watch): its first message, or its refusal, is the answer.
                    if (endless) await stream.ResponseStream.MoveNext(CancellationToken.None);
                    else await DrainAsync(stream.ResponseStream);
                }
            });
            fuzz.Record(index, Name, caller, raw: true, rawOutcome, undecodable: decoded is null, readBeforeHandlers: true);
            return true;
        }
    }

    /// <summary>Sightings/Report: a few batches on one client stream, generated or each mutated.</summary>
    private sealed class ReportStreamRpc : IRpc
    {
        private readonly Method<byte[], byte[]> _raw = new(MethodType.ClientStreaming, SightingsService, "Report", Bytes, Bytes);

        public string Name => "Sightings/Report";

        public async Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg)
        {
            var caller = Draw(MostlyAgentGen, pcg);
            var raw = Draw(RawShare, pcg);
            var batches = Draw(ReportStreamGen, pcg);
            var options = Options(caller, pcg, CallTimeout);
            var encoded = new byte[batches.Length][];
            for (var i = 0; i < batches.Length; i++)
            {
                if (!TryEncode(batches[i], out encoded[i])) return false;
            }

            if (!raw)
            {
                foreach (var batch in batches) fuzz.TouchBatch(batch);
                var outcome = await Observe(async () =>
                {
                    using var call = new Sightings.SightingsClient(fuzz.ChannelOf(caller)).Report(options);
                    await WriteAllAsync(call.RequestStream, batches);
                    var response = await call.ResponseAsync;
                    for (var i = 0; i < batches.Length && i < response.Batches.Count; i++) fuzz.Accepted(batches[i], response.Batches[i]);
                });
                fuzz.Record(index, Name, caller, raw: false, outcome, undecodable: false, readBeforeHandlers: false);
                return true;
            }

            var payloads = encoded.Select(bytes => Mutate(bytes, Draw(MaybeMutationsGen, pcg))).ToArray();
            var decoded = payloads.Select(payload => TryParse(SightingBatch.Parser, payload)).ToArray();
            foreach (var batch in decoded)
            {
                if (batch is not null) fuzz.TouchBatch(batch);
            }

            var rawOutcome = await Observe(async () =>
            {
                using var call = fuzz.InvokerOf(caller).AsyncClientStreamingCall(_raw, null, options);
                await WriteAllAsync(call.RequestStream, payloads);
                var response = ReportResponse.Parser.ParseFrom(await call.ResponseAsync);
                for (var i = 0; i < decoded.Length && i < response.Batches.Count; i++)
                {
                    if (decoded[i] is { } batch) fuzz.Accepted(batch, response.Batches[i]);
                }
            });
            fuzz.Record(index, Name, caller, raw: true, rawOutcome, undecodable: decoded.Any(batch => batch is null), readBeforeHandlers: false);
            return true;
        }
    }

    /// <summary>RegistryAdmin/ImportEdition: a request stream of any shape, its progress read to the end.</summary>
    private sealed class ImportStreamRpc : IRpc
    {
        private readonly Method<byte[], byte[]> _raw = new(MethodType.DuplexStreaming, RegistryAdminService, "ImportEdition", Bytes, Bytes);

        public string Name => "RegistryAdmin/ImportEdition";

        public async Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg)
        {
            var caller = Draw(MostlyAdminGen, pcg);
            var raw = Draw(RawShare, pcg);
            var messages = Draw(ImportStreamGen, pcg);
            var options = Options(caller, pcg, ImportTimeout);
            var encoded = new byte[messages.Length][];
            for (var i = 0; i < messages.Length; i++)
            {
                if (!TryEncode(messages[i], out encoded[i])) return false;
            }

            if (!raw)
            {
                var outcome = await Observe(async () =>
                {
                    using var call = new RegistryAdmin.RegistryAdminClient(fuzz.ChannelOf(caller)).ImportEdition(options);
                    await WriteAllAsync(call.RequestStream, messages);
                    await DrainAsync(call.ResponseStream);
                });
                fuzz.Record(index, Name, caller, raw: false, outcome, undecodable: false, readBeforeHandlers: false);
                return true;
            }

            var payloads = encoded.Select(bytes => Mutate(bytes, Draw(MaybeMutationsGen, pcg))).ToArray();
            var undecodable = payloads.Any(payload => TryParse(ImportEditionRequest.Parser, payload) is null);
            var rawOutcome = await Observe(async () =>
            {
                using var call = fuzz.InvokerOf(caller).AsyncDuplexStreamingCall(_raw, null, options);
                await WriteAllAsync(call.RequestStream, payloads);
                await DrainAsync(call.ResponseStream);
            });
            fuzz.Record(index, Name, caller, raw: true, rawOutcome, undecodable, readBeforeHandlers: false);
            return true;
        }
    }
}
