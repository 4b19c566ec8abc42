using System.Net;
using Microsoft.Extensions.Logging;

namespace NvmeTcp.Client;

/// <summary>Paths from discovery: once at connect, and as persistent discovery reports changes.</summary>
public sealed partial class NvmeSubsystem
{
    private async Task<IEnumerable<DnsEndPoint>> DiscoverAsync(DnsEndPoint discovery, CancellationToken cancellationToken)
    {
        var options = _options.Template.Clone();
        options.Address = discovery.Host;
        options.Port = discovery.Port;
        try
        {
            var log = await NvmeDiscovery.GetLogAsync(options, followReferrals: true, cancellationToken).ConfigureAwait(false);
            return PathsIn(log.Entries);
        }
        catch (Exception e) when (e is NvmeException or IOException or System.Net.Sockets.SocketException)
        {
            // Other discovery endpoints or listed paths may still give paths.
            Log.PathRefused(_logger, SubsystemNqn, discovery.Host, discovery.Port, $"discovery failed: {e.Message}");
            return [];
        }
    }

    // The entries that are this subsystem over TCP, as endpoints. An entry whose TREQ requires a secure channel is
    // left out, with a warning, when no TLS is configured: it is never tried in the clear.
    private List<DnsEndPoint> PathsIn(IEnumerable<NvmeDiscoveryLogEntry> entries)
    {
        var paths = new List<DnsEndPoint>();
        foreach (var e in entries)
        {
            if (e.SubsystemType != NvmeSubsystemType.Nvm || e.TransportType != NvmeTransportType.Tcp || e.SubsystemNqn != SubsystemNqn)
            {
                continue;
            }

            var endPoint = new DnsEndPoint(e.TransportAddress, int.TryParse(e.TransportServiceId, out var port) ? port : NvmeTcpOptions.DefaultPort);
            if (e.SecureChannel == NvmeSecureChannelRequirement.Required && _options.Template.Tls is null)
            {
                Log.PathRefused(_logger, SubsystemNqn, endPoint.Host, endPoint.Port, "the discovery log entry requires a secure channel (TREQ) and no TLS is configured");
                continue;
            }

            paths.Add(endPoint);
        }

        return paths;
    }

    private async Task StartPersistentDiscoveryAsync(CancellationToken cancellationToken)
    {
        var watchers = new List<NvmePersistentDiscovery>();
        foreach (var endPoint in _options.DiscoveryEndPoints)
        {
            var options = _options.Template.Clone();
            options.Address = endPoint.Host;
            options.Port = endPoint.Port;
            var watcher = await NvmePersistentDiscovery.StartAsync(options, cancellationToken).ConfigureAwait(false);
            watcher.Changed += (_, e) => _ = OnDiscoveryChangedAsync(e);
            watchers.Add(watcher);

            // Entries that appeared between the first read and the watcher's.
            _ = OnDiscoveryChangedAsync(new NvmeDiscoveryChangedEventArgs(watcher.Entries, [], 0));
        }

        lock (_lock)
        {
            _discovery = [.. watchers];
        }
    }

    // Added entries of this subsystem become paths, removed ones stop being paths. Failures are logged; the watcher
    // goes on.
    private async Task OnDiscoveryChangedAsync(NvmeDiscoveryChangedEventArgs change)
    {
        foreach (var endPoint in PathsIn(change.Removed))
        {
            if (Find(endPoint) is { } path)
            {
                await RemovePathAsync(path).ConfigureAwait(false);
            }
        }

        foreach (var endPoint in PathsIn(change.Added))
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await AddPathAsync(endPoint, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NvmeException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (_logger.IsEnabled(LogLevel.Warning) && !_stop.IsCancellationRequested)
                {
                    Log.PathRefused(_logger, SubsystemNqn, endPoint.Host, endPoint.Port, e.Message);
                }
            }
        }
    }
}
