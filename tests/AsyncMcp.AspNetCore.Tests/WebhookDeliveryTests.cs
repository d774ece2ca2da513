using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Webhooks.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>Deliveries: per-client isolation, the reply-address policy, and what happens when a webhook is gone.</summary>
public sealed class WebhookDeliveryTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_hanging_webhook_never_delays_another_clients_calls()
    {
        // Three requests in flight at most, server-wide; the slow client gets more than that stuck at its webhook.
        const int limit = 3;
        await using var harness = await WebhookHarness.StartAsync(o => o.MaxConcurrentRequests = limit);

        // Client A receives on a webhook mounted in an app of its own, which (once connected) hangs while the gate is shut.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hanging = 0;
        var hangNow = false;
        var receiver = new WebhookReceiver(new() { Secret = harness.Secret });
        var app = await WebhookHarness.StartAppAsync(app => app.MapPost("/hook", async (HttpContext context) =>
        {
            if (Volatile.Read(ref hangNow) && !gate.Task.IsCompleted)
            {
                Interlocked.Increment(ref hanging);
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            await receiver.HandleAsync(context);
        }));
        await using var appScope = harness.Own(app);
        var slow = await harness.ConnectAsync(Protocols.November2025, o =>
        {
            o.Receiver = receiver;
            o.WebhookUrl = new Uri(WebhookHarness.BoundAddress(app) + "/hook");
        });

        // B does not retry: a 503 (server busy) would fail its call at once.
        var fast = await harness.ConnectAsync(Protocols.November2025, o => o.SendRetry = new() { MaxAttempts = 1 });
        Volatile.Write(ref hangNow, true);

        // Now A's answers hang at its webhook, more of them than the server's in-flight limit...
        var stuck = Enumerable.Range(0, limit + 1)
            .Select(i => slow.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"slow {i}" }, cancellationToken: Timeout).AsTask())
            .ToArray();
        // (one POST hangs; the answers made meanwhile wait for it, to go out together, since this client asks for batches)
        await Eventually(() => Volatile.Read(ref hanging) + harness.Server.Batching!.WaitingCount >= limit + 1);

        // ...while B's twenty calls are all served at once, before A's webhook lets go.
        for (var i = 0; i < 20; i++)
        {
            var result = await fast.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"fast {i}" }, cancellationToken: Timeout);
            Assert.Equal($"Echo: fast {i}", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        Assert.False(gate.Task.IsCompleted);
        Assert.DoesNotContain(stuck, call => call.IsCompleted);
        await Eventually(() => harness.Server.Dispatcher!.Limiter.Count == 0);
        Assert.False(gate.Task.IsCompleted);

        gate.TrySetResult();
        var late = await Task.WhenAll(stuck);
        Assert.Equal(Enumerable.Range(0, limit + 1).Select(i => $"Echo: slow {i}"), late.Select(r => Assert.IsType<TextContentBlock>(Assert.Single(r.Content)).Text));
    }

    [Fact]
    public async Task A_delivery_that_fails_once_with_a_5xx_or_a_timeout_is_retried_and_delivered()
    {
        await using var harness = await WebhookHarness.StartAsync(o =>
        {
            o.DeliveryTimeout = TimeSpan.FromSeconds(1);
            o.SendRetry = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) };
        });
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();

        // The answer to 2 gets 503 on its first attempt; the answer to 3 hangs past the delivery timeout on its first.
        var attempts = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var retriedAfterTimeout = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Intercept = async body =>
        {
            if ((int?)body["id"] is not (2 or 3) || body["result"] is null)
            {
                return null;
            }

            var id = (int)body["id"]!;
            var attempt = attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            switch (id, attempt)
            {
                case (2, 1):
                    return 503;
                case (3, 1):
                    // Held until the retry has arrived, then answered too late for anyone to hear.
                    await retriedAfterTimeout.Task;
                    return 500;
                case (3, _):
                    retriedAfterTimeout.TrySetResult();
                    break;
            }

            return null;
        };

        Assert.Equal(200, (await peer.PostAsync(Call(2, message: "after a 503"), sessionId)).Status);
        Assert.Equal(200, (await peer.PostAsync(Call(3, message: "after a timeout"), sessionId)).Status);

        Assert.Equal("Echo: after a 503", (string?)(await peer.WaitForDeliveryAsync(2)).Body["result"]!["content"]![0]!["text"]);
        Assert.Equal("Echo: after a timeout", (string?)(await peer.WaitForDeliveryAsync(3)).Body["result"]!["content"]![0]!["text"]);
        Assert.Equal(2, attempts[2]);
        Assert.Equal(2, attempts[3]);
        Assert.Single(peer.Deliveries, d => (int?)d.Body["id"] == 2);
        Assert.Single(peer.Deliveries, d => (int?)d.Body["id"] == 3);
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("503", StringComparison.Ordinal) && e.Message.Contains("retry 1", StringComparison.Ordinal));
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("timed out", StringComparison.Ordinal) && e.Message.Contains("retry 1", StringComparison.Ordinal));
        Assert.Equal(1, harness.Server.Dispatcher!.SessionCount);
    }

    [Fact]
    public async Task A_notification_whose_first_attempt_fails_is_not_overtaken_by_the_next()
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.SendRetry = new() { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(300), MaxDelay = TimeSpan.FromSeconds(1) });
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();

        // The webhook fails the first attempt of progress 2 with 503; the tool reports its next step a few ms later.
        var failed = 0;
        peer.Intercept = body => Task.FromResult<int?>(
            (string?)body["method"] == "notifications/progress" && (double?)body["params"]!["progress"] == 2 && Interlocked.Exchange(ref failed, 1) == 0 ? 503 : null);
        var call = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 2,
            ["method"] = "tools/call",
            ["params"] = new JsonObject
            {
                ["name"] = "slow",
                ["arguments"] = new JsonObject { ["steps"] = 4, ["delayMs"] = 5 },
                ["_meta"] = new JsonObject { ["progressToken"] = "p" },
            },
        };
        Assert.Equal(200, (await peer.PostAsync(call, sessionId)).Status);
        await peer.WaitForDeliveryAsync(2);

        Assert.Equal(1, Volatile.Read(ref failed));
        var order = peer.Deliveries
            .Select(d => (string?)d.Body["method"] == "notifications/progress" ? $"progress {(double)d.Body["params"]!["progress"]!}" : (int?)d.Body["id"] == 2 ? "result" : null)
            .Where(what => what is not null);
        Assert.Equal(["progress 1", "progress 2", "progress 3", "progress 4", "result"], order);
    }

    [Fact]
    public async Task A_post_is_answered_at_once_while_the_error_or_repeated_answer_it_causes_waits_at_a_hanging_webhook()
    {
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();
        var echo = Call(2);
        Assert.Equal(200, (await peer.PostAsync(echo, sessionId)).Status);
        await peer.WaitForDeliveryAsync(2);

        // From now on the webhook hangs until the test ends it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hanging = 0;
        peer.Intercept = async _ =>
        {
            Interlocked.Increment(ref hanging);
            await gate.Task;
            return null;
        };

        try
        {
            // An error the server sends by webhook (an unsupported protocol version): the POST does not wait for it.
            var versioned = peer.PostAsync(Call(3), sessionId, new Dictionary<string, string> { ["X-Protocol-Version"] = "1999-01-01" });
            await Eventually(() => Volatile.Read(ref hanging) >= 1);
            var (status, json, _) = await versioned.WaitAsync(TimeSpan.FromSeconds(10), Timeout);
            Assert.Equal(200, status);
            Assert.Equal("received", (string?)json!["status"]);

            // A copy of an answered request is answered again by webhook: that POST does not wait either.
            var again = peer.PostAsync(echo, sessionId);
            await Eventually(() => Volatile.Read(ref hanging) >= 2);
            (status, json, _) = await again.WaitAsync(TimeSpan.FromSeconds(10), Timeout);
            Assert.Equal(200, status);
            Assert.False(gate.Task.IsCompleted);
        }
        finally
        {
            gate.TrySetResult();
        }

        await Eventually(() => peer.Deliveries.Any(d => (int?)d.Body["id"] == 3));
        Assert.Equal("unsupported_protocol_version", (string?)peer.Deliveries.First(d => (int?)d.Body["id"] == 3).Body["error"]!["data"]!["reason"]);
        await Eventually(() => peer.Deliveries.Count(d => (int?)d.Body["id"] == 2) == 2);
    }

    [Fact]
    public async Task An_answer_too_large_for_the_clients_webhook_fails_its_call_with_a_clear_error()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.November2025, o => o.MaxDeliveryBytes = 1024);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        cts.CancelAfter(TimeSpan.FromSeconds(20));

        var error = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(
            () => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = new string('x', 2000) }, cancellationToken: cts.Token).AsTask());

        Assert.Contains("more than what the client's webhook accepts (it answered 413)", error.Message, StringComparison.Ordinal);
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("a short error is sent instead", StringComparison.Ordinal));

        // The session goes on: smaller answers still arrive.
        var small = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "small" }, cancellationToken: Timeout);
        Assert.Equal("Echo: small", Assert.IsType<TextContentBlock>(Assert.Single(small.Content)).Text);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "refused network")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/", "metadata service")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data/", "refused network")]
    [InlineData("http://2852039166/latest/meta-data/", "refused network")]
    [InlineData("http://[::ffff:169.254.169.254]/latest/meta-data/", "refused network")]
    [InlineData("http://169.254.169.254.nip.invalid.:80@169.254.169.254/", "user credentials")]
    [InlineData("ftp://127.0.0.1/hook", "scheme 'ftp' is not allowed")]
    public async Task Metadata_and_link_local_webhooks_are_refused_by_default(string webhookUrl, string why)
    {
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var outgoing = WatchOutgoing(harness);

        var (status, json, _) = await peer.PostAsync(peer.Initialize(1, webhookUrl));

        Assert.Equal(webhookUrl.StartsWith("ftp", StringComparison.Ordinal) ? 400 : 403, status);
        Assert.Equal(1, (int?)json!["id"]);
        if (status == 403)
        {
            Assert.Equal("reply_address_refused", (string?)json["error"]!["data"]!["reason"]);
            Assert.Contains(why, (string?)json["error"]!["message"], StringComparison.Ordinal);
            Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("refused by the reply-address policy", StringComparison.Ordinal));
        }

        Assert.Equal(0, harness.Server.Dispatcher!.SessionCount);

        // A session opened afterwards is answered: by then anything the refused request could have caused has gone out.
        // Every connection made (and every name looked up) was for that session's own webhook.
        await peer.OpenSessionAsync();
        Assert.NotEmpty(outgoing.Connections);
        Assert.All(outgoing.Connections, endPoint => Assert.Equal(new Uri(peer.WebhookUrl).Port, endPoint.Port));
        Assert.All(outgoing.Connections, endPoint => Assert.True(System.Net.IPAddress.IsLoopback(endPoint.Address)));
        Assert.Empty(outgoing.LookedUp);
    }

    [Fact]
    public async Task A_host_outside_the_allowlist_is_refused_and_nothing_is_sent_to_it()
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowedHosts = ["hooks.example.com", "*.trusted.example", "localhost"]);
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);

        var (status, json, _) = await peer.PostAsync(peer.Initialize(1));

        Assert.Equal(403, status);
        Assert.Equal("reply_address_refused", (string?)json!["error"]!["data"]!["reason"]);
        Assert.Contains("not in the reply-address allowlist", (string?)json["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(0, harness.Server.Dispatcher!.SessionCount);

        // The same listener by an allowed name opens a session; once its answer is in, nothing came by the refused one.
        await peer.OpenSessionAsync(peer.WebhookUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        Assert.All(peer.Deliveries, d => Assert.StartsWith("localhost:", d.Headers["Host"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_name_that_resolves_to_a_refused_network_is_refused_after_dns_resolution()
    {
        // "webhook.test" passes every check on its name; one of the addresses it resolves to is link-local.
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var outgoing = WatchOutgoing(harness, host => host == "webhook.test" ? [System.Net.IPAddress.Loopback, System.Net.IPAddress.Parse("169.254.169.254")] : null);
        var byName = peer.WebhookUrl.Replace("127.0.0.1", "webhook.test", StringComparison.Ordinal);

        var (status, json, _) = await peer.PostAsync(peer.Initialize(1, byName));

        Assert.Equal(403, status);
        Assert.Contains("'webhook.test' resolves to 169.254.169.254", (string?)json!["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains("webhook.test", outgoing.LookedUp);

        // A later session by address is answered; no connection ever went to the name's addresses.
        await peer.OpenSessionAsync();
        Assert.All(peer.Deliveries, d => Assert.StartsWith("127.0.0.1:", d.Headers["Host"], StringComparison.Ordinal));
        Assert.DoesNotContain(outgoing.Connections, endPoint => endPoint.Address.Equals(System.Net.IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public async Task A_name_that_resolves_elsewhere_by_the_time_of_sending_gets_no_request()
    {
        // DNS rebinding: the name resolves to an allowed address when initialize names it, to metadata when the
        // server connects to deliver the answer.
        await using var harness = await WebhookHarness.StartAsync(o => o.SendRetry = new() { MaxAttempts = 1 });
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var lookups = 0;
        var outgoing = WatchOutgoing(harness, host => host == "rebind.test"
            ? [Interlocked.Increment(ref lookups) == 1 ? System.Net.IPAddress.Loopback : System.Net.IPAddress.Parse("169.254.169.254")]
            : null);

        var (status, json, _) = await peer.PostAsync(peer.Initialize(1, peer.WebhookUrl.Replace("127.0.0.1", "rebind.test", StringComparison.Ordinal)));
        Assert.Equal(200, status);
        var sessionId = (string)json!["session_id"]!;

        // The answer's connection is refused before any socket opens; the session, which can never be answered, is closed.
        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains($"Session {sessionId} closed", StringComparison.Ordinal)));
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("could not be delivered", StringComparison.Ordinal) && e.Message.Contains(sessionId, StringComparison.Ordinal));
        Assert.Empty(outgoing.Connections);
        Assert.Empty(peer.Deliveries);
    }

    [Fact]
    public async Task The_connection_itself_is_checked_so_no_request_reaches_a_refused_address()
    {
        // The check when a URL is named can be outdated by the time of sending (DNS rebinding): the HTTP handler's
        // connect step checks again. Here the sink is given a refused address directly.
        await using var peer = await RawWebhookPeer.StartAsync(new Uri("http://127.0.0.1:1/"), secret: null);
        var guard = new Webhooks.Delivery.WebhookAddressGuard(new() { DeniedNetworks = ["127.0.0.0/8", "::1/128"] }, "policy");
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = guard.ConnectAsync });
        var sink = new Webhooks.Delivery.WebhookHttpSink(http, signer: null, TimeSpan.FromSeconds(5));
        var message = Wire.OutboundMessageFactory.Create(new JsonRpcNotification { Method = "notifications/message" }, DateTimeOffset.UtcNow, "s", "c");

        var connects = 0;
        guard.Connecting = _ => Interlocked.Increment(ref connects);
        var refused = await Assert.ThrowsAsync<Webhooks.Delivery.WebhookAddressRefusedException>(
            () => sink.SendAsync(peer.WebhookUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), message, Timeout));

        Assert.False(refused.IsTransient);
        Assert.Equal(0, Volatile.Read(ref connects));
        Assert.Empty(peer.Deliveries);
    }

    [Fact]
    public async Task A_request_of_a_session_never_steers_its_errors_to_a_webhook_it_names_itself()
    {
        // The allowlist admits the client's webhook by name only; the same listener by IP is not allowed.
        await using var harness = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowedHosts = ["localhost"]);
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var byName = peer.WebhookUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        var sessionId = await peer.OpenSessionAsync(byName);

        // An unsupported protocol version, answered by webhook: the request names the listener by IP for it.
        var versioned = Call(2, peer.WebhookUrl);
        Assert.Equal(200, (await peer.PostAsync(versioned, sessionId, new Dictionary<string, string> { ["X-Protocol-Version"] = "1999-01-01" })).Status);
        var versionError = await peer.WaitForDeliveryAsync(2);
        Assert.Equal("unsupported_protocol_version", (string?)versionError.Body["error"]!["data"]!["reason"]);
        Assert.StartsWith("localhost:", versionError.Headers["Host"], StringComparison.Ordinal);

        // A request reusing the id of one still running, naming the listener by IP: refused, at the session's webhook.
        var hold = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 3, ["method"] = "tools/call", ["params"] = new JsonObject { ["name"] = "hold" } };
        Assert.Equal(200, (await peer.PostAsync(hold, sessionId)).Status);
        await Eventually(() => harness.State.RunningHolds == 1);
        Assert.Equal(200, (await peer.PostAsync(Call(3, peer.WebhookUrl), sessionId)).Status);
        var reuseError = await peer.WaitForDeliveryAsync(3);
        Assert.Contains("already in use", (string?)reuseError.Body["error"]!["message"], StringComparison.Ordinal);
        Assert.StartsWith("localhost:", reuseError.Headers["Host"], StringComparison.Ordinal);

        // The held call's own answer comes last, so every delivery of the session is in by then: none went by IP.
        harness.State.ReleaseHolds.TrySetResult();
        await Eventually(() => peer.Deliveries.Any(d => (int?)d.Body["id"] == 3 && d.Body["result"] is not null));
        Assert.All(peer.Deliveries, d => Assert.StartsWith("localhost:", d.Headers["Host"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_connect_step_enforces_the_host_allowlist_for_every_sender()
    {
        // Whatever code path hands the sink an address, the connection it would open is checked against the whole
        // policy: here 127.0.0.1 is outside the allowlist, though its network is allowed.
        await using var peer = await RawWebhookPeer.StartAsync(new Uri("http://127.0.0.1:1/"), secret: null);
        var guard = new Webhooks.Delivery.WebhookAddressGuard(new() { AllowedHosts = ["localhost"], AllowLoopback = true }, "policy");
        var connects = 0;
        guard.Connecting = _ => Interlocked.Increment(ref connects);
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = guard.ConnectAsync });
        var sink = new Webhooks.Delivery.WebhookHttpSink(http, signer: null, TimeSpan.FromSeconds(5));
        var message = Wire.OutboundMessageFactory.Create(new JsonRpcNotification { Method = "notifications/message" }, DateTimeOffset.UtcNow, "s", "c");

        var refused = await Assert.ThrowsAsync<Webhooks.Delivery.WebhookAddressRefusedException>(() => sink.SendAsync(peer.WebhookUrl, message, Timeout));
        Assert.Contains("not in the reply-address allowlist", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref connects));

        // The same listener by an allowed name is reached: the hook does see connections.
        await sink.SendAsync(peer.WebhookUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), message, Timeout);
        Assert.True(Volatile.Read(ref connects) > 0);
        Assert.Single(peer.Deliveries);
    }

    [Fact]
    public async Task Shutdown_gives_unanswered_requests_one_delivery_deadline_together_however_many_there_are()
    {
        const int stuck = 8;
        var deliveryTimeout = TimeSpan.FromSeconds(1.5);
        var harness = await WebhookHarness.StartAsync(o =>
        {
            o.ShutdownDrainTimeout = TimeSpan.FromMilliseconds(100);
            o.DeliveryTimeout = deliveryTimeout;
        });
        await using var harnessScope = harness;
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();
        for (var id = 10; id < 10 + stuck; id++)
        {
            Assert.Equal(200, (await peer.PostAsync(Hold(id), sessionId)).Status);
        }

        await Eventually(() => harness.State.RunningHolds == stuck);

        // The webhook now hangs: telling each request it was not answered takes a full delivery timeout.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var told = 0;
        peer.Intercept = async body =>
        {
            if ((string?)body["error"]?["data"]?["reason"] == "not_answered")
            {
                Interlocked.Increment(ref told);
            }

            await gate.Task;
            return null;
        };

        try
        {
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await harness.Server.DisposeAsync();
            stopping.Stop();

            // One after another would be stuck × 1.5 s = 12 s; together, one deadline.
            Assert.Equal(stuck, Volatile.Read(ref told));
            Assert.True(stopping.Elapsed < deliveryTimeout * (stuck / 2), $"Stopping took {stopping.Elapsed}.");
            Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("webhook deliveries were still under way", StringComparison.Ordinal));
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_webhook_that_stays_down_closes_its_session_with_a_logged_reason()
    {
        await using var harness = await WebhookHarness.StartAsync(o =>
        {
            o.SendRetry = new() { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(50) };
            o.DeliveryTimeout = TimeSpan.FromSeconds(2);
        });
        var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();
        await Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);

        // The client's webhook goes away; the next answer cannot be delivered.
        await peer.DisposeAsync();
        await using var poster = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var call = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 2, ["method"] = "tools/call", ["params"] = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "x" } } };
        Assert.Equal(200, (await poster.PostAsync(call, sessionId)).Status);

        await Eventually(() => harness.Server.Dispatcher!.SessionCount == 0);
        Assert.Contains(harness.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(sessionId, StringComparison.Ordinal) && e.Message.Contains("request 2", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains($"Session {sessionId} closed: delivery to its reply address failed", StringComparison.Ordinal));
        Assert.Equal(0, harness.Server.Dispatcher!.PendingRequestCount);

        // The session is gone for good: its client hears 404 and must start again.
        var (status, _, _) = await poster.PostAsync(call, sessionId);
        Assert.Equal(404, status);
    }

    private static JsonObject Call(int id, string? webhookUrl = null, string message = "x")
    {
        var parameters = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = message } };
        if (webhookUrl is not null)
        {
            parameters["_meta"] = new JsonObject { ["webhookUrl"] = webhookUrl };
        }

        return new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = "tools/call", ["params"] = parameters };
    }

    private static JsonObject Hold(int id) => new() { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = "tools/call", ["params"] = new JsonObject { ["name"] = "hold" } };

    /// <summary>Records every connection the server's deliveries open and every name they look up; can stand in for DNS.</summary>
    private static Outgoing WatchOutgoing(WebhookHarness harness, Func<string, System.Net.IPAddress[]?>? dns = null)
    {
        var outgoing = new Outgoing();
        var guard = harness.Server.AddressGuard;
        var resolve = guard.Resolve;
        guard.Resolve = (host, cancellationToken) =>
        {
            outgoing.LookedUp.Enqueue(host);
            return dns?.Invoke(host) is { } addresses ? Task.FromResult(addresses) : resolve(host, cancellationToken);
        };
        guard.Connecting = outgoing.Connections.Enqueue;
        return outgoing;
    }

    private sealed class Outgoing
    {
        public System.Collections.Concurrent.ConcurrentQueue<System.Net.IPEndPoint> Connections { get; } = new();

        public System.Collections.Concurrent.ConcurrentQueue<string> LookedUp { get; } = new();
    }
}
