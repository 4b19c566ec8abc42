using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Client;

/// <summary>
/// Discovery (NVMe-oF 1.1, 5): what subsystems a target offers, read from its discovery controller's log page 70h.
/// </summary>
public static class NvmeDiscovery
{
    private const int MaxGenerationRetries = 10;
    internal const int MaxReferralDepth = 4;

    /// <summary>
    /// Connects to the discovery controller at <paramref name="options"/>' address (the well-known discovery NQN,
    /// KATO 0: a short-lived connection), reads the discovery log, and disconnects.
    /// </summary>
    /// <param name="options">Address, port (usually 8009 or 4420), host identity; the NQN is replaced by the discovery NQN.</param>
    /// <param name="followReferrals">Also read the logs of referred discovery controllers (entries of subtype 1), up to 4 deep.</param>
    /// <param name="cancellationToken">Cancels the whole operation.</param>
    /// <returns>The log, with the entries of followed referrals appended (the referral entries themselves kept).</returns>
    public static async Task<NvmeDiscoveryLog> GetLogAsync(NvmeTcpOptions options, bool followReferrals = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        return await GetLogAsync(options, followReferrals ? MaxReferralDepth : 0, visited, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Options to connect to the subsystem a discovery log entry names, keeping the host identity and settings of <paramref name="template"/>.</summary>
    /// <param name="entry">An entry of subtype NVM subsystem.</param>
    /// <param name="template">Host identity, digests, queues, timeouts.</param>
    /// <param name="addressOverride">An address to use instead of TRADDR (for targets behind NAT, which report an address the host cannot reach).</param>
    /// <param name="portOverride">A port to use instead of TRSVCID (NAT may remap the port as well).</param>
    /// <returns>New options.</returns>
    public static NvmeTcpOptions OptionsFor(NvmeDiscoveryLogEntry entry, NvmeTcpOptions template, string? addressOverride = null, int? portOverride = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(template);
        if (entry.TransportType != NvmeTransportType.Tcp)
        {
            throw new ArgumentException($"The entry's transport is {entry.TransportType}, not TCP.", nameof(entry));
        }

        var options = template.Clone();
        options.Address = addressOverride ?? entry.TransportAddress;
        options.Port = portOverride ?? (int.TryParse(entry.TransportServiceId, out var port) ? port : NvmeTcpOptions.DefaultPort);
        options.SubsystemNqn = entry.SubsystemNqn;

        // TREQ "required": the connect refuses to run in the clear (NvmeTlsException, NotConfigured) unless TLS is set.
        options.SecureChannelRequired = entry.SecureChannel == NvmeSecureChannelRequirement.Required;
        return options;
    }

    /// <summary>Connects to the subsystem <paramref name="entry"/> names (see <see cref="OptionsFor"/>).</summary>
    /// <remarks>
    /// An entry whose TREQ requires a secure channel is never tried in the clear: without <see cref="NvmeTcpOptions.Tls"/>
    /// (or with a key lookup that has no key for it) this throws <see cref="NvmeTlsException"/>
    /// (<see cref="NvmeTlsFailure.NotConfigured"/>) before connecting.
    /// </remarks>
    /// <param name="entry">An entry of subtype NVM subsystem.</param>
    /// <param name="template">Host identity, digests, queues, timeouts.</param>
    /// <param name="addressOverride">An address to use instead of TRADDR.</param>
    /// <param name="portOverride">A port to use instead of TRSVCID.</param>
    /// <param name="cancellationToken">Cancels the bring-up.</param>
    /// <returns>A live controller.</returns>
    public static Task<NvmeController> ConnectAsync(NvmeDiscoveryLogEntry entry, NvmeTcpOptions template, string? addressOverride = null, int? portOverride = null, CancellationToken cancellationToken = default) =>
        NvmeController.ConnectAsync(OptionsFor(entry, template, addressOverride, portOverride), cancellationToken);

    internal static async Task<NvmeDiscoveryLog> GetLogAsync(NvmeTcpOptions options, int referralDepth, HashSet<string> visited, CancellationToken cancellationToken)
    {
        var discovery = options.Clone();
        discovery.SubsystemNqn = NvmeTcpOptions.DiscoveryNqn;
        discovery.KeepAliveTimeout = TimeSpan.Zero;
        discovery.IoQueueCount = 0;
        visited.Add(VisitKey(discovery));
        NvmeDiscoveryLog log;
        var controller = await NvmeController.ConnectAsync(discovery, cancellationToken).ConfigureAwait(false);
        await using (controller.ConfigureAwait(false))
        {
            log = await ReadLogAsync(controller, cancellationToken).ConfigureAwait(false);
        }

        if (referralDepth == 0)
        {
            return log;
        }

        var entries = new List<NvmeDiscoveryLogEntry>(log.Entries);
        foreach (var next in Referrals(log, options))
        {
            if (!visited.Contains(VisitKey(next)))
            {
                var referred = await GetLogAsync(next, referralDepth - 1, visited, cancellationToken).ConfigureAwait(false);
                entries.AddRange(referred.Entries);
            }
        }

        return new NvmeDiscoveryLog(log.Header, entries);
    }

    // The TCP referrals of a log (entries of subtype discovery referral), as options to read each with.
    internal static List<NvmeTcpOptions> Referrals(NvmeDiscoveryLog log, NvmeTcpOptions template) =>
        [.. log.Entries.Where(e => e.SubsystemType == NvmeSubsystemType.DiscoveryReferral && e.TransportType == NvmeTransportType.Tcp).Select(e => OptionsFor(e, template))];

    // What marks a discovery controller as read, so that referrals never loop.
    internal static string VisitKey(NvmeTcpOptions options) => $"{options.Address}:{options.Port}";

    // As libnvme's nvme_discovery_log: the header, then the entries, then the header again; if GENCTR moved, the log
    // changed while it was read, so start over. RAE keeps a discovery-log-changed event outstanding until the last read.
    internal static async Task<NvmeDiscoveryLog> ReadLogAsync(NvmeController controller, CancellationToken cancellationToken)
    {
        using var activity = Diagnostics.Telemetry.Start("nvme discovery", controller.RemoteEndPoint, controller.SubsystemNqn);
        try
        {
            var log = await ReadConsistentLogAsync(controller, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("nvme.discovery.records", log.Entries.Count);
            return log;
        }
        catch (Exception e)
        {
            Diagnostics.Telemetry.Fail(activity, e);
            throw;
        }
    }

    private static async Task<NvmeDiscoveryLog> ReadConsistentLogAsync(NvmeController controller, CancellationToken cancellationToken)
    {
        var logger = controller.Logger;
        for (var attempt = 0; attempt < MaxGenerationRetries; attempt++)
        {
            var headerData = await controller.GetLogPageAsync(LogPageId.Discovery, NvmeDiscoveryLogHeader.Size, 0, 0, retainAsyncEvent: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            var header = NvmeDiscoveryLogHeader.Parse(headerData);
            var count = (int)Math.Min(header.Numrec, 4096);
            var entries = count == 0
                ? []
                : await controller.GetLogPageAsync(LogPageId.Discovery, count * NvmeDiscoveryLogEntry.Size, 0, NvmeDiscoveryLogHeader.Size, retainAsyncEvent: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            var again = NvmeDiscoveryLogHeader.Parse(await controller.GetLogPageAsync(LogPageId.Discovery, NvmeDiscoveryLogHeader.Size, 0, 0, retainAsyncEvent: false, cancellationToken: cancellationToken).ConfigureAwait(false));
            if (again.Genctr == header.Genctr)
            {
                var page = new byte[NvmeDiscoveryLogHeader.Size + entries.Length];
                headerData.CopyTo(page, 0);
                entries.CopyTo(page, NvmeDiscoveryLogHeader.Size);
                var log = NvmeDiscoveryLog.Parse(page);
                Log.DiscoveryLogRead(logger, controller.RemoteEndPoint, header.Genctr, header.Numrec);
                return log;
            }

            Log.DiscoveryLogChanged(logger, header.Genctr, again.Genctr);
        }

        throw new NvmeException($"The discovery log kept changing: its generation moved in each of {MaxGenerationRetries} reads.");
    }
}
