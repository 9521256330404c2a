using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// POSTs watch events to the configured webhook, in small batches, each signed with HMAC-SHA256 over the raw body.
/// One silo of the cluster delivers at a time (a lock in PostgreSQL) and moves a stored cursor after each batch the
/// receiver acknowledged (2xx), so another silo takes over where it stopped. A batch is posted again until it is
/// acknowledged, waiting twice as long after each failure: delivery is at least once, and a receiver dedupes by
/// event id (a deliverer that dies between the POST and the cursor's move leaves that batch to be sent again).
/// The receiver is not trusted: redirects are not followed (a signed POST must not be bounced to an internal address),
/// its answer's body is never read, and only its host is logged (a URL may carry a secret in its path or query).
/// </summary>
public sealed class WebhookDelivery(
    IOptions<WebhookOptions> options,
    IOptions<WatchOptions> watch,
    IWatchEventLog log,
    IWebhookCursors cursors,
    WatchSignal signal,
    ILogger<WebhookDelivery> logger) : BackgroundService
{
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        // An answer's headers are all that is read: a receiver cannot make the deliverer hold much.
        MaxResponseHeadersLength = 16,
        MaxResponseDrainSize = 0,
    })
    {
        MaxResponseContentBufferSize = 64 * 1024,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public const string SignatureHeader = "X-PortHistory-Signature";
    public const string TimestampHeader = "X-PortHistory-Timestamp";
    public const string EventIdsHeader = "X-PortHistory-Event-Ids";

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Url is not { Length: > 0 } url) return;
        var secret = WebhookSecret.Read(settings.SecretFile!);
        var retry = Retry(settings, Receiver(new Uri(url)));
        var (filter, _) = WatchFilterText.Parse(settings.Ports, settings.Transports, settings.Verdicts, settings.ProcessNames, settings.Kinds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var lease = await cursors.TryAcquireAsync(settings.Name, stoppingToken);
                if (lease is null)
                {
                    // Another silo delivers; this one stands by to take over.
                    await Task.Delay(watch.Value.PollInterval, stoppingToken);
                    continue;
                }

                await DeliverAsync(lease, new Uri(url), secret, filter!, retry, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Webhook {Name}: {Message}; trying again", settings.Name, e.Message.Replace(url, Receiver(new Uri(url)), StringComparison.Ordinal));
                await Task.Delay(watch.Value.PollInterval, stoppingToken);
            }
        }
    }

    private async Task DeliverAsync(IWebhookLease lease, Uri url, byte[] secret, WatchFilter filter, ResiliencePipeline retry, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var cursor = await lease.CursorAsync(await log.LatestCursorAsync(stoppingToken), stoppingToken);
        // A receiver down for longer than the retention has missed events for good: said, not skipped in silence.
        var deleted = await log.DeletedThroughAsync(stoppingToken);
        if (cursor < deleted)
        {
            logger.LogError("Webhook {Name}: events after {Cursor} up to {DeletedThrough} were deleted by retention before they were delivered",
                settings.Name, cursor, deleted);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = signal.Next;
            var page = await log.ReadAfterAsync(cursor, settings.BatchSize, stoppingToken);
            if (page.Count == 0)
            {
                await Task.WhenAny(wake, Task.Delay(watch.Value.PollInterval, stoppingToken));
                // A lost lock shows here too: the lease's connection is used at least every poll.
                await lease.AdvanceAsync(cursor, stoppingToken);
                continue;
            }

            var batch = page.Where(filter.Matches).ToList();
            if (batch.Count > 0) await PostUntilAcknowledgedAsync(url, secret, batch, retry, stoppingToken);
            cursor = (long)page[^1].Cursor;
            await lease.AdvanceAsync(cursor, stoppingToken);
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Posts the batch (signed anew, with the time of each attempt) until the receiver acknowledges it: each attempt
    /// within <see cref="WebhookOptions.Timeout"/>, the waits between them doubling from FirstRetryDelay to MaxRetryDelay.
    /// </summary>
    private async Task PostUntilAcknowledgedAsync(Uri url, byte[] secret, IReadOnlyList<WatchEvent> batch, ResiliencePipeline retry, CancellationToken stoppingToken) =>
        await retry.ExecuteAsync(async attempt =>
        {
            var (body, headers) = Sign(batch, secret, DateTimeOffset.UtcNow);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            // Headers only: the body of the answer is not read, whatever its size.
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt);
            if (!response.IsSuccessStatusCode) throw new WebhookRefusedException((int)response.StatusCode);
        }, stoppingToken);

    /// <summary>The receiver as logged: its host and port, never its path or query (they may hold a secret).</summary>
    public static string Receiver(Uri url) => $"{url.IdnHost}:{url.Port}";

    private ResiliencePipeline Retry(WebhookOptions settings, string receiver) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            Delay = settings.FirstRetryDelay,
            MaxDelay = settings.MaxRetryDelay,
            OnRetry = args =>
            {
                var why = args.Outcome.Exception switch
                {
                    WebhookRefusedException refused => $"answered {refused.Status}",
                    TimeoutRejectedException => $"did not answer within {settings.Timeout}",
                    HttpRequestException e => $"could not be reached ({e.HttpRequestError})",
                    { } e => $"failed ({e.GetType().Name})",
                    null => "failed",
                };
                logger.LogWarning("Webhook {Name}: {Receiver} {Why} (attempt {Attempt}); retrying in {Delay}", settings.Name, receiver, why, args.AttemptNumber + 1,
                    args.RetryDelay);
                return default;
            },
        })
        .AddTimeout(settings.Timeout)
        .Build();

    /// <summary>
    /// The body ({"sentAt": …, "events": [WatchEvent as protobuf JSON, …]}) and its headers: the signature
    /// "sha256=" + hex HMAC-SHA256 of the raw body with the shared secret, the time sent (also in the signed body, so a
    /// receiver can refuse old replays) and the batch's event ids.
    /// </summary>
    public static (byte[] Body, IReadOnlyList<(string Name, string Value)> Headers) Sign(IReadOnlyList<WatchEvent> batch, byte[] secret, DateTimeOffset now)
    {
        var text = new StringBuilder();
        text.Append("{\"sentAt\":\"").Append(now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture)).Append("\",\"events\":[");
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0) text.Append(',');
            text.Append(Json.Format(batch[i]));
        }

        text.Append("]}");
        var body = Encoding.UTF8.GetBytes(text.ToString());
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));
        return (body, [
            (SignatureHeader, signature),
            (TimestampHeader, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (EventIdsHeader, string.Join(',', batch.Select(e => e.EventId))),
        ]);
    }
}

/// <summary>The receiver answered something other than 2xx.</summary>
public sealed class WebhookRefusedException(int status) : Exception($"the receiver answered {status}")
{
    public int Status { get; } = status;
}
