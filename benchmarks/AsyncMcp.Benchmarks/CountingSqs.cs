using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// An <see cref="IAmazonSQS"/> in front of another that counts the SQS API requests made through it, by operation and
/// by whether the queue is a worker's own queue (<c>-w-</c>); the SDK's own retries are not counted. It can also take
/// a server off its shared request queue (<see cref="RedirectReceives"/>), so that a benchmark decides which worker
/// receives what.
/// </summary>
internal class CountingSqs : DispatchProxy
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _redirected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IAmazonSQS _inner = null!;
    private volatile Redirect? _redirect;

    /// <summary>The client to hand to the code whose requests are counted.</summary>
    public IAmazonSQS Client => (IAmazonSQS)(object)this;

    /// <summary>Completes once a receive has been redirected.</summary>
    public Task Redirected => _redirected.Task;

    public static CountingSqs Wrap(IAmazonSQS inner)
    {
        var proxy = (CountingSqs)(object)Create<IAmazonSQS, CountingSqs>();
        proxy._inner = inner;
        return proxy;
    }

    /// <summary>From now on, long polls of <paramref name="from"/> go to <paramref name="to"/> (an empty queue) instead.</summary>
    public void RedirectReceives(string from, string to) => _redirect = new Redirect(from, to);

    /// <summary>The requests counted so far, by operation (<c>SendMessage</c>, <c>SendMessage (worker queue)</c>, …).</summary>
    public Dictionary<string, long> Snapshot() => new(_counts, StringComparer.Ordinal);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name.EndsWith("Async", StringComparison.Ordinal))
        {
            if (_redirect is { } redirect && args is [ReceiveMessageRequest receive, ..] && receive.QueueUrl == redirect.From)
            {
                receive.QueueUrl = redirect.To;
                _redirected.TrySetResult();
            }

            var queueUrl = args is [string url, ..] ? url : args is [{ } request, ..] ? request.GetType().GetProperty("QueueUrl")?.GetValue(request) as string : null;
            var operation = targetMethod.Name[..^"Async".Length] + (queueUrl?.Contains("-w-", StringComparison.Ordinal) == true ? " (worker queue)" : string.Empty);
            _counts.AddOrUpdate(operation, 1, (_, n) => n + 1);
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private sealed record Redirect(string From, string To);
}
