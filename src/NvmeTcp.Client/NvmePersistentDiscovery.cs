using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NvmeTcp.Client;

/// <summary>What a discovery log change added and removed.</summary>
public sealed class NvmeDiscoveryChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="added">Entries new since the last read.</param>
    /// <param name="removed">Entries gone since the last read.</param>
    /// <param name="generation">GENCTR of the log read.</param>
    public NvmeDiscoveryChangedEventArgs(IReadOnlyList<NvmeDiscoveryLogEntry> added, IReadOnlyList<NvmeDiscoveryLogEntry> removed, ulong generation)
    {
        Added = added;
        Removed = removed;
        Generation = generation;
    }

    /// <summary>Entries new since the last read.</summary>
    public IReadOnlyList<NvmeDiscoveryLogEntry> Added { get; }

    /// <summary>Entries gone since the last read.</summary>
    public IReadOnlyList<NvmeDiscoveryLogEntry> Removed { get; }

    /// <summary>GENCTR of the discovery log the change was read from.</summary>
    public ulong Generation { get; }
}

/// <summary>
/// A persistent discovery controller connection (as <c>nvme discover --persistent</c>): it stays connected with
/// keep-alive, takes discovery log change notices, re-reads the log (repeating while GENCTR moves under the read),
/// follows referrals (up to 4 deep, each endpoint once) and raises <see cref="Changed"/> with what was added and removed.
/// It reconnects by itself like any controller, and reads the log again each time it is live again.
/// </summary>
public sealed class NvmePersistentDiscovery : IAsyncDisposable
{
    private static readonly TimeSpan DefaultKeepAlive = TimeSpan.FromSeconds(30);

    private readonly NvmeTcpOptions _options;
    private readonly NvmeController _controller;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly Transport.SerialEvents _events = new();
    private IReadOnlyList<NvmeDiscoveryLogEntry> _entries = [];
    private Task _loop = Task.CompletedTask;
    private ulong _generation;

    private NvmePersistentDiscovery(NvmeTcpOptions options, NvmeController controller)
    {
        _options = options;
        _controller = controller;
        _logger = options.LoggerFactory?.CreateLogger<NvmePersistentDiscovery>() ?? NullLogger<NvmePersistentDiscovery>.Instance;
    }

    /// <summary>Raised after each read of the log that changed the entries; in order, one at a time, on the thread pool.</summary>
    public event EventHandler<NvmeDiscoveryChangedEventArgs>? Changed;

    /// <summary>Raised when a re-read fails (the connection keeps trying); the error is the argument.</summary>
    public event EventHandler<Exception>? ReadFailed;

    /// <summary>The entries of the last log read, referrals' entries included.</summary>
    public IReadOnlyList<NvmeDiscoveryLogEntry> Entries => Volatile.Read(ref _entries);

    /// <summary>The discovery controller.</summary>
    public NvmeController Controller => _controller;

    /// <summary>
    /// Connects to the discovery controller at <paramref name="options"/>' address with keep-alive (the options'
    /// KATO, or 30 s when it is 0), reads the log once, and starts watching.
    /// </summary>
    /// <param name="options">Address, port, host identity; the NQN is replaced by the discovery NQN.</param>
    /// <param name="cancellationToken">Cancels the connect and first read.</param>
    /// <returns>The watcher, with <see cref="Entries"/> filled.</returns>
    public static async Task<NvmePersistentDiscovery> StartAsync(NvmeTcpOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var discovery = options.Clone();
        discovery.SubsystemNqn = NvmeTcpOptions.DiscoveryNqn;
        discovery.IoQueueCount = 0;
        if (discovery.KeepAliveTimeout == TimeSpan.Zero)
        {
            discovery.KeepAliveTimeout = DefaultKeepAlive;
        }

        var controller = await NvmeController.ConnectAsync(discovery, cancellationToken).ConfigureAwait(false);
        var watcher = new NvmePersistentDiscovery(discovery, controller);
        try
        {
            watcher._entries = await watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await controller.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        controller.AsyncEvent += (_, e) =>
        {
            if (e.IsDiscoveryLogChanged)
            {
                watcher._wake.Writer.TryWrite(true);
            }
        };
        controller.StateChanged += (_, e) =>
        {
            // Notices may have been missed while the connection was down.
            if (e.Current == NvmeControllerState.Live)
            {
                watcher._wake.Writer.TryWrite(true);
            }
        };
        watcher._loop = watcher.WatchAsync();
        return watcher;
    }

    /// <summary>Stops watching and disconnects.</summary>
    /// <returns>Completes once the controller is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _wake.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await _controller.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task WatchAsync()
    {
        try
        {
            while (await _wake.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                _wake.Reader.TryRead(out _);
                IReadOnlyList<NvmeDiscoveryLogEntry> now;
                ulong generation;
                try
                {
                    (now, generation) = (await ReadAllAsync(_stop.Token).ConfigureAwait(false), _generation);
                }
                catch (Exception e) when (e is NvmeException or IOException or System.Net.Sockets.SocketException)
                {
                    if (ReadFailed is { } failed)
                    {
                        _events.Post(() => failed(this, e));
                    }

                    continue;
                }

                var before = Entries;
                Volatile.Write(ref _entries, now);
                var beforeKeys = before.ToDictionary(Key);
                var nowKeys = now.ToDictionary(Key);
                var added = now.Where(e => !beforeKeys.ContainsKey(Key(e))).ToList();
                var removed = before.Where(e => !nowKeys.ContainsKey(Key(e))).ToList();
                if ((added.Count > 0 || removed.Count > 0) && Changed is { } handler)
                {
                    var args = new NvmeDiscoveryChangedEventArgs(added, removed, generation);
                    _events.Post(() => handler(this, args));
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    // The log of the persistent controller, then the logs of its referrals (short-lived connections), merged.
    private async Task<IReadOnlyList<NvmeDiscoveryLogEntry>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var log = await NvmeDiscovery.ReadLogAsync(_controller, cancellationToken).ConfigureAwait(false);
        _generation = log.Header.Genctr;
        var entries = new List<NvmeDiscoveryLogEntry>(log.Entries);
        var visited = new HashSet<string>(StringComparer.Ordinal) { NvmeDiscovery.VisitKey(_options) };
        foreach (var next in NvmeDiscovery.Referrals(log, _options))
        {
            if (visited.Contains(NvmeDiscovery.VisitKey(next)))
            {
                continue;
            }

            try
            {
                var referred = await NvmeDiscovery.GetLogAsync(next, NvmeDiscovery.MaxReferralDepth - 1, visited, cancellationToken).ConfigureAwait(false);
                entries.AddRange(referred.Entries);
            }
            catch (Exception e) when (e is NvmeException or IOException or System.Net.Sockets.SocketException)
            {
                Log.PathRefused(_logger, NvmeTcpOptions.DiscoveryNqn, next.Address, next.Port, $"referral not read: {e.Message}");
            }
        }

        // Duplicates (the same entry through two referrals) merged.
        return [.. entries.DistinctBy(Key)];
    }

    internal static string Key(NvmeDiscoveryLogEntry e) =>
        $"{(int)e.SubsystemType}|{e.SubsystemNqn}|{(int)e.TransportType}|{e.TransportAddress}|{e.TransportServiceId}|{e.Portid}";
}
