namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>Helpers shared by the clients that receive webhook deliveries (the webhook and hybrid transports).</summary>
internal static class WebhookConnection
{
    /// <summary>
    /// The webhook URL of one connection: <paramref name="webhookUrl"/> with its <c>client</c> query parameter, and, when
    /// <paramref name="acceptBatches"/>, the parameter by which it asks for batched deliveries (see <see cref="WebhookBatches"/>).
    /// </summary>
    public static string WithConnection(Uri webhookUrl, string connection, bool acceptBatches)
    {
        var builder = new UriBuilder(webhookUrl);
        var parameter = $"{WebhookReceiver.ConnectionParameter}={connection}" + (acceptBatches ? "&" + WebhookBatches.QueryPart : string.Empty);
        builder.Query = string.IsNullOrEmpty(builder.Query) ? parameter : builder.Query.TrimStart('?') + "&" + parameter;
        return builder.Uri.ToString();
    }
}

/// <summary>What one connection owns, disposed in reverse order when it closes.</summary>
internal sealed class OwnedResources : IAsyncDisposable
{
    private readonly Stack<object> _items = new();

    public void Add(object item)
    {
        lock (_items)
        {
            _items.Push(item);
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (true)
        {
            object? item;
            lock (_items)
            {
                if (!_items.TryPop(out item))
                {
                    return;
                }
            }

            switch (item)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
