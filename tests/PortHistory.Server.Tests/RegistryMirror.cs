using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// A local HTTP server standing in for IANA: it serves what the test sets (an edition with its ETag, answering 304
/// to a matching If-None-Match; an HTML error page with 200; a body cut short; no answer at all) and records every
/// request. Each answer takes a little while, so two fetchers at once would be seen overlapping. A request left
/// unanswered stops counting as in flight at once: when its caller gave up is only known once the server notices the
/// closed connection, which under load may come after the caller's next request.
/// </summary>
public sealed class RegistryMirror : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile Answer _answer = new(AnswerKind.Missing, [], "");
    private int _inFlight;
    private int _maxInFlight;

    public enum AnswerKind { Missing, Edition, HtmlErrorPage, Truncated, NoAnswer }

    public sealed record Answer(AnswerKind Kind, byte[] Bytes, string ETag);

    public sealed record Request(AnswerKind Answered, string? IfNoneMatch, int Status);

    public RegistryMirror()
    {
        var port = PostgresServer.FreePort();
        Url = $"http://127.0.0.1:{port}/assignments/service-names-port-numbers/service-names-port-numbers.xml";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/assignments/service-names-port-numbers/service-names-port-numbers.xml", AnswerAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>The most requests the mirror was answering at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public Task StartAsync() => _app.StartAsync();

    public void Serve(byte[] bytes, string etag) => _answer = new Answer(AnswerKind.Edition, bytes, etag);

    public void ServeHtmlErrorPage() => _answer = new Answer(AnswerKind.HtmlErrorPage, [], "");

    public void ServeTruncated(byte[] bytes) => _answer = new Answer(AnswerKind.Truncated, bytes, "");

    public void ServeNoAnswer() => _answer = new Answer(AnswerKind.NoAnswer, [], "");

    /// <summary>Waits until the mirror has answered <paramref name="count"/> requests as it answers now.</summary>
    public Task<int> AnsweredAsync(AnswerKind kind, int count) =>
        Eventually.Async(() => Task.FromResult(Requests.Count(r => r.Answered == kind)), n => n >= count, TimeSpan.FromSeconds(30));

    private async Task AnswerAsync(HttpContext context)
    {
        var answer = _answer;
        var counted = answer.Kind != AnswerKind.NoAnswer;
        if (counted) InterlockedMax(ref _maxInFlight, Interlocked.Increment(ref _inFlight));
        var ifNoneMatch = context.Request.Headers.IfNoneMatch.ToString();
        try
        {
            await Task.Delay(100, context.RequestAborted);
            switch (answer.Kind)
            {
                case AnswerKind.Edition when ifNoneMatch == answer.ETag:
                    context.Response.StatusCode = StatusCodes.Status304NotModified;
                    break;
                case AnswerKind.Edition:
                    context.Response.ContentType = "application/xml";
                    context.Response.Headers.ETag = answer.ETag;
                    context.Response.ContentLength = answer.Bytes.Length;
                    await context.Response.Body.WriteAsync(answer.Bytes, context.RequestAborted);
                    break;
                case AnswerKind.HtmlErrorPage:
                    // What a misconfigured proxy or CDN serves: an error page, with 200.
                    context.Response.ContentType = "text/html; charset=utf-8";
                    await context.Response.WriteAsync("<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>Try again later</h1></body></html>",
                        context.RequestAborted);
                    break;
                case AnswerKind.Truncated:
                    context.Response.ContentType = "application/xml";
                    context.Response.ContentLength = answer.Bytes.Length;
                    await context.Response.Body.WriteAsync(answer.Bytes.AsMemory(0, answer.Bytes.Length / 2), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    context.Abort();
                    break;
                case AnswerKind.NoAnswer:
                    // Until the caller gives up.
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    break;
                default:
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Requests.Enqueue(new Request(answer.Kind, ifNoneMatch.Length == 0 ? null : ifNoneMatch, context.Response.StatusCode));
            if (counted) Interlocked.Decrement(ref _inFlight);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
