namespace AsyncMcp.Messaging.Batching;

/// <summary>
/// Gathers the operations on one queue that are waiting at the same moment into batches: an operation submitted while
/// nothing of its kind is in flight goes out at once (alone if it is alone: a batcher never waits to fill a batch);
/// operations submitted while a batch is in flight wait for it to end and then go out together. A full batch does not
/// wait: up to a set number of batches go out side by side.
/// </summary>
/// <typeparam name="TEntry">One operation (a send, a delete, a visibility change).</typeparam>
/// <remarks>
/// Entries go out in the order they were submitted, but two batches in flight side by side may reach the broker in
/// either order; callers that need order (a FIFO session) submit their next entry only once the one before completed,
/// as <see cref="Messaging.SendLane"/> does.
/// </remarks>
internal sealed class BatchLane<TEntry>
{
    private readonly Func<IReadOnlyList<Pending>, Task> _sendBatch;
    private readonly Func<TEntry, int> _size;
    private readonly BatchLimits _limits;
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private int _inFlight;

    /// <summary>Creates a lane.</summary>
    /// <param name="sendBatch">Sends one batch (one entry or more) and completes every entry of it; must not throw.</param>
    /// <param name="size">The bytes an entry counts against the limits' bytes.</param>
    /// <param name="limits">How large a batch may be and how many may be in flight at once.</param>
    public BatchLane(Func<IReadOnlyList<Pending>, Task> sendBatch, Func<TEntry, int> size, BatchLimits limits)
    {
        _sendBatch = sendBatch;
        _size = size;
        _limits = limits;
    }

    /// <summary>Whether nothing waits and nothing is in flight.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return _inFlight == 0 && _waiting.Count == 0;
            }
        }
    }

    /// <summary>When an operation was last submitted (a <see cref="TimeProvider"/> timestamp), for <see cref="BatchLanes{TEntry}"/>.</summary>
    public long LastUsed { get; set; }

    /// <summary>How many entries wait for a batch.</summary>
    public int WaitingCount
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Queues an operation and completes when its batch has; fails with the error its single call would have had.</summary>
    public Task SubmitAsync(TEntry entry, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var pending = new Pending(entry, cancellationToken);
        lock (_gate)
        {
            _waiting.Enqueue(pending);
        }

        Pump();
        return cancellationToken.CanBeCanceled ? pending.Completion.WaitAsync(cancellationToken) : pending.Completion;
    }

    private void Pump()
    {
        while (true)
        {
            List<Pending>? batch;
            lock (_gate)
            {
                batch = TakeBatch();
            }

            if (batch is null)
            {
                return;
            }

            _ = RunAsync(batch);
        }
    }

    private List<Pending>? TakeBatch()
    {
        if (_waiting.Count == 0 || (_inFlight > 0 && (_waiting.Count < _limits.MaxEntries || _inFlight >= _limits.MaxConcurrentBatches)))
        {
            return null;
        }

        var batch = new List<Pending>(Math.Min(_waiting.Count, _limits.MaxEntries));
        long bytes = 0;
        while (batch.Count < _limits.MaxEntries && _waiting.TryPeek(out var next))
        {
            if (next.CancellationToken.IsCancellationRequested)
            {
                // Given up before it went out: like a single call cancelled before it was made, it is not made.
                _waiting.Dequeue();
                next.Cancel();
                continue;
            }

            var size = _size(next.Entry);
            if (batch.Count > 0 && bytes + size > _limits.MaxBytes)
            {
                break;
            }

            _waiting.Dequeue();
            batch.Add(next);
            bytes += size;
        }

        if (batch.Count == 0)
        {
            return null;
        }

        _inFlight++;
        return batch;
    }

    private async Task RunAsync(List<Pending> batch)
    {
        try
        {
            await _sendBatch(batch).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Fail(ex);
            }
        }
        finally
        {
            lock (_gate)
            {
                _inFlight--;
            }

            // What gathered while this batch was out goes next, before the callers of this one run on.
            Pump();
            Complete(batch);
        }
    }

    private static void Complete(List<Pending> batch)
    {
        // The last caller runs on here (as it would after its own single call); the others on the thread pool, so that
        // one caller's work does not hold up the answers of the rest.
        for (var i = 0; i < batch.Count - 1; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static pending => pending.Publish(), batch[i], preferLocal: false);
        }

        batch[^1].Publish();
    }

    /// <summary>One operation waiting for, or in, a batch.</summary>
    internal sealed class Pending(TEntry entry, CancellationToken cancellationToken)
    {
        private readonly TaskCompletionSource _completion = new();
        private Exception? _error;
        private bool _succeeded;

        public TEntry Entry { get; } = entry;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public Task Completion => _completion.Task;

        /// <summary>Whether success or a failure has been recorded.</summary>
        public bool IsSettled => _succeeded || _error is not null;

        /// <summary>Records success; takes effect when the batch's callers are released.</summary>
        public void Succeed() => _succeeded = true;

        /// <summary>Records this entry's own failure; takes effect when the batch's callers are released.</summary>
        public void Fail(Exception error) => _error ??= error;

        internal void Cancel() => _completion.TrySetCanceled(CancellationToken);

        internal void Publish()
        {
            if (_error is not null)
            {
                _completion.TrySetException(_error);
            }
            else if (_succeeded)
            {
                _completion.TrySetResult();
            }
            else
            {
                _completion.TrySetException(new InvalidOperationException("The batch answer named neither success nor failure for this entry."));
            }
        }
    }
}

/// <summary>The limits of a <see cref="BatchLane{TEntry}"/>'s batches.</summary>
/// <param name="MaxEntries">The most entries in one batch.</param>
/// <param name="MaxBytes">The most bytes of entries in one batch; an entry larger than this goes alone.</param>
/// <param name="MaxConcurrentBatches">How many batches to one destination may be in flight at once.</param>
internal readonly record struct BatchLimits(int MaxEntries, int MaxBytes, int MaxConcurrentBatches)
{
    /// <summary>SQS and SNS: ten entries a request, up to eight requests of one kind to one destination side by side.</summary>
    public static BatchLimits Aws(int maxBytes) => new(10, maxBytes, 8);
}
