using System.Buffers;
using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Apis;

/// <summary>
/// Registers the methods of every generated gRPC service, as grpc-dotnet's own provider does, with one difference: a
/// request that is not valid protobuf is answered InvalidArgument. grpc-dotnet decodes a unary request before any
/// interceptor runs and answers a decoding failure with Unknown ("Exception was thrown by handler"), a status that
/// says "server fault" to callers and monitoring alike, for what is the caller's fault. And a pre-encoded GetPort answer
/// (<see cref="GetPortResponse.PreEncoded"/>) is sent as its bytes, without sizing and writing it field by field.
/// </summary>
public sealed class ContractMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        // Generated service bases carry [BindServiceMethod(typeof(Service), "BindService")].
        var bind = typeof(TService).GetCustomAttribute<BindServiceMethodAttribute>(inherit: true);
        if (bind is null) return;
        var bindMethod = bind.BindType.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == bind.BindMethodName && m.GetParameters() is [var binder, _] && binder.ParameterType == typeof(ServiceBinderBase));
        bindMethod.Invoke(null, [new Binder(context), null]);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Implementation<Grpc.AspNetCore.Server.Model.UnaryServerMethod<TService, TRequest, TResponse>>(method);
            context.AddUnaryMethod(Tolerant(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Implementation<Grpc.AspNetCore.Server.Model.ServerStreamingServerMethod<TService, TRequest, TResponse>>(method);
            context.AddServerStreamingMethod(Tolerant(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Implementation<Grpc.AspNetCore.Server.Model.ClientStreamingServerMethod<TService, TRequest, TResponse>>(method);
            context.AddClientStreamingMethod(Tolerant(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Implementation<Grpc.AspNetCore.Server.Model.DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method);
            context.AddDuplexStreamingMethod(Tolerant(method), metadata, invoker);
        }

        /// <summary>
        /// The service's implementation of the method as an open-instance delegate (called on each call's service), and
        /// the attributes of the service and the method as endpoint metadata, as grpc-dotnet gives them.
        /// </summary>
        private static (TDelegate Invoker, List<object> Metadata) Implementation<TDelegate>(IMethod method)
            where TDelegate : Delegate
        {
            var parameters = typeof(TDelegate).GetMethod("Invoke")!.GetParameters().Skip(1).Select(p => p.ParameterType).ToArray();
            var implementation = typeof(TService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters)
                                 ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {method.Name}");
            List<object> metadata = [.. typeof(TService).GetCustomAttributes(inherit: true), .. implementation.GetCustomAttributes(inherit: true)];
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), implementation), metadata);
        }

        private static Method<TRequest, TResponse> Tolerant<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class
        {
            var decode = method.RequestMarshaller.ContextualDeserializer;
            var requests = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, context =>
            {
                try
                {
                    return decode(context);
                }
                catch (InvalidProtocolBufferException)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, "request: not a valid message"));
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, Responses(method.ResponseMarshaller));
        }

        private static Marshaller<TResponse> Responses<TResponse>(Marshaller<TResponse> marshaller)
            where TResponse : class
        {
            if (typeof(TResponse) != typeof(GetPortResponse)) return marshaller;
            var encode = marshaller.ContextualSerializer;
            return new Marshaller<TResponse>((response, context) =>
            {
                if (response is not GetPortResponse answer || !answer.TryGetEncoded(out var encoded))
                {
                    encode(response, context);
                    return;
                }

                context.SetPayloadLength(encoded.Length);
                var writer = context.GetBufferWriter();
                writer.Write(encoded.Span);
                context.Complete();
            }, marshaller.ContextualDeserializer);
        }
    }
}
