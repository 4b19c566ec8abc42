using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

public sealed partial class NvmeController
{
    /// <summary>
    /// Sends any admin command, as nvme-cli's <c>admin-passthru</c> does. At most one of <paramref name="writeData"/>
    /// and <paramref name="readBuffer"/> may be non-empty; it is the command's data.
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="writeData">Data sent to the controller.</param>
    /// <param name="readBuffer">Where data from the controller goes.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The completion; a non-zero status throws <see cref="NvmeStatusException"/>.</returns>
    public async ValueTask<NvmeCompletion> AdminPassthruAsync(NvmeCommand command, ReadOnlyMemory<byte> writeData = default, Memory<byte> readBuffer = default, CancellationToken cancellationToken = default)
    {
        var cqe = await UserAdminAsync(command.ToSqe(), writeData, readBuffer, cancellationToken).ConfigureAwait(false);
        return new NvmeCompletion(cqe.Dw0, cqe.Dw1, cqe.Status);
    }

    /// <summary>Identify Namespace (CNS 00h) for <paramref name="namespaceId"/>, read now.</summary>
    /// <param name="namespaceId">NSID.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The namespace's Identify data.</returns>
    public async Task<NvmeIdentifyNamespace> IdentifyNamespaceAsync(uint namespaceId, CancellationToken cancellationToken = default)
    {
        var data = new byte[4096];
        await UserAdminAsync(IdentifyCommand.Namespace(namespaceId), default, data, cancellationToken).ConfigureAwait(false);
        return NvmeIdentifyNamespace.Parse(data);
    }

    /// <summary>The active namespace list (Identify CNS 02h), read now.</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>NSIDs in increasing order.</returns>
    public async Task<IReadOnlyList<uint>> GetActiveNamespaceIdsAsync(CancellationToken cancellationToken = default)
    {
        var ids = new List<uint>();
        var data = new byte[4096];
        uint after = 0;
        while (true)
        {
            await UserAdminAsync(IdentifyCommand.ActiveNamespaces(after), default, data, cancellationToken).ConfigureAwait(false);
            var page = NvmeNamespaceList.Parse(data);
            ids.AddRange(page);
            if (page.Count < 1024)
            {
                return ids;
            }

            after = page[^1];
        }
    }

    /// <summary>Get Log Page: reads <paramref name="length"/> bytes (a multiple of 4) of log <paramref name="logId"/> from <paramref name="offset"/>.</summary>
    /// <param name="logId">LID, e.g. 0x01 error information, 0x02 SMART / health, 0x70 discovery.</param>
    /// <param name="length">Bytes to read, a multiple of 4.</param>
    /// <param name="namespaceId">NSID (0xFFFFFFFF for controller-wide logs such as SMART).</param>
    /// <param name="offset">Byte offset into the log, a multiple of 4.</param>
    /// <param name="retainAsyncEvent">RAE: keep an asynchronous event for this log outstanding.</param>
    /// <param name="logSpecific">LSP (CDW10 bits 8-14), e.g. <see cref="AnaLogLayout.ReturnGroupsOnly"/> for the ANA log (0Ch).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The log data.</returns>
    public async Task<byte[]> GetLogPageAsync(byte logId, int length, uint namespaceId = 0xFFFFFFFF, ulong offset = 0, bool retainAsyncEvent = false, byte logSpecific = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 4);
        var data = new byte[length];
        var chunk = Math.Max(4096, MaxTransferSize / 4 * 4);
        for (var done = 0; done < length; done += chunk)
        {
            var size = Math.Min(chunk, length - done);
            var sqe = GetLogPageCommand.Create(logId, (uint)size, namespaceId, offset + (ulong)done, logSpecific, retainAsyncEvent);
            await UserAdminAsync(sqe, default, data.AsMemory(done, size), cancellationToken).ConfigureAwait(false);
        }

        return data;
    }

    /// <summary>
    /// The ANA log (LID 0Ch), read now: the state of every ANA group through this controller. The controller also
    /// keeps the last one read in <see cref="AnaLog"/>.
    /// </summary>
    /// <param name="groupsOnly">RGO: ask for the group descriptors without their NSID lists.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The parsed log.</returns>
    /// <exception cref="NvmeStatusException">The controller does not report ANA (CMIC bit 3 clear), or refused the command.</exception>
    public async Task<NvmeAnaLog> GetAnaLogAsync(bool groupsOnly = false, CancellationToken cancellationToken = default)
    {
        var (sqe, data) = AnaLogRequest(Identify, groupsOnly);
        await UserAdminAsync(sqe, default, data, cancellationToken).ConfigureAwait(false);
        var log = ParseAnaLog(data, groupsOnly);
        Current.AnaLog = log;
        return log;
    }

    /// <summary>The SMART / health information log (LID 02h), controller-wide.</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The parsed log.</returns>
    public async Task<NvmeSmartLog> GetSmartLogAsync(CancellationToken cancellationToken = default) =>
        NvmeSmartLog.Parse(await GetLogPageAsync(LogPageId.SmartHealth, 512, cancellationToken: cancellationToken).ConfigureAwait(false));

    /// <summary>The error information log (LID 01h): ELPE + 1 entries of 64 bytes.</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The entries, newest first; empty entries have an error count of 0.</returns>
    public async Task<IReadOnlyList<NvmeErrorLogEntry>> GetErrorLogAsync(CancellationToken cancellationToken = default) =>
        NvmeErrorLogEntry.ParseList(await GetLogPageAsync(LogPageId.ErrorInformation, (Identify.Elpe + 1) * 64, cancellationToken: cancellationToken).ConfigureAwait(false));

    /// <summary>Get Features: the current value of feature <paramref name="featureId"/> (CQE dword 0).</summary>
    /// <param name="featureId">FID.</param>
    /// <param name="cdw11">Command dword 11, for features that take one.</param>
    /// <param name="namespaceId">NSID, for namespace-specific features.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>CQE dword 0.</returns>
    public async Task<uint> GetFeatureAsync(byte featureId, uint cdw11 = 0, uint namespaceId = 0, CancellationToken cancellationToken = default) =>
        (await UserAdminAsync(FeatureCommands.Get(featureId, FeatureSelect.Current, cdw11, namespaceId), default, default, cancellationToken).ConfigureAwait(false)).Dw0;

    /// <summary>Set Features: sets feature <paramref name="featureId"/> from <paramref name="cdw11"/>.</summary>
    /// <param name="featureId">FID.</param>
    /// <param name="cdw11">Command dword 11: the value.</param>
    /// <param name="namespaceId">NSID, for namespace-specific features.</param>
    /// <param name="save">SV: keep the value across resets.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>CQE dword 0.</returns>
    public async Task<uint> SetFeatureAsync(byte featureId, uint cdw11, uint namespaceId = 0, bool save = false, CancellationToken cancellationToken = default) =>
        (await UserAdminAsync(FeatureCommands.Set(featureId, cdw11, save, namespaceId), default, default, cancellationToken).ConfigureAwait(false)).Dw0;

    /// <summary>The firmware slot information log (LID 03h).</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The parsed log.</returns>
    public async Task<NvmeFirmwareSlotLog> GetFirmwareSlotLogAsync(CancellationToken cancellationToken = default) =>
        NvmeFirmwareSlotLog.Parse(await GetLogPageAsync(LogPageId.FirmwareSlot, FirmwareSlotLayout.Size, cancellationToken: cancellationToken).ConfigureAwait(false));

    /// <summary>The namespace identification descriptors (Identify CNS 03h) of <paramref name="namespaceId"/>, read now.</summary>
    /// <param name="namespaceId">NSID.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The descriptors in the order the controller lists them.</returns>
    public async Task<IReadOnlyList<NvmeNamespaceDescriptor>> GetNamespaceDescriptorsAsync(uint namespaceId, CancellationToken cancellationToken = default)
    {
        var data = new byte[4096];
        await UserAdminAsync(IdentifyCommand.NamespaceDescriptors(namespaceId), default, data, cancellationToken).ConfigureAwait(false);
        return NvmeNamespaceDescriptor.ParseList(data);
    }

    /// <summary>Property Get (NVMe-oF 3.5): reads a controller property, 8 bytes for CAP and 4 for the others.</summary>
    /// <param name="offset">The property's offset, e.g. <see cref="ControllerProperty.Cc"/>.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The value.</returns>
    public async Task<ulong> GetPropertyAsync(uint offset, CancellationToken cancellationToken = default) =>
        (await UserAdminAsync(PropertyCommands.Get(offset), default, default, cancellationToken).ConfigureAwait(false)).Value64;

    /// <summary>Property Set (NVMe-oF 3.6): writes a 4-byte controller property. Writing CC can shut the controller down; it is the caller's to mean it.</summary>
    /// <param name="offset">The property's offset.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has acknowledged it.</returns>
    public async Task SetPropertyAsync(uint offset, uint value, CancellationToken cancellationToken = default) =>
        await UserAdminAsync(PropertyCommands.Set(offset, value), default, default, cancellationToken).ConfigureAwait(false);

    /// <summary>The discovery log page (LID 70h) of a discovery controller, read as libnvme does (see <see cref="NvmeDiscovery"/>).</summary>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>A consistent log: its generation did not change while it was read.</returns>
    public Task<NvmeDiscoveryLog> GetDiscoveryLogAsync(CancellationToken cancellationToken = default) =>
        NvmeDiscovery.ReadLogAsync(this, cancellationToken);

    // A caller's admin command: while the association is being re-established it waits for the controller to be
    // live again (or fails as I/O does); bring-up's own commands go to the association being built.
    internal async ValueTask<Cqe> UserAdminAsync(Sqe sqe, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken)
    {
        var admin = Current.Admin;
        if (admin.Failure is not null || State != NvmeControllerState.Live)
        {
            await WaitUntilLiveAsync(cancellationToken).ConfigureAwait(false);
            admin = Current.Admin;
        }

        var kind = sqe.Opcode == FabricsCommand.Opcode ? CommandKind.Fabrics : CommandKind.Admin;
        var name = kind == CommandKind.Fabrics ? CommandName.OfFabrics(sqe.FabricsCommandType) : CommandName.Of(kind, sqe.Opcode);
        using var activity = Diagnostics.Telemetry.Start("nvme admin", Current.EndPoint, _options.SubsystemNqn);
        activity?.SetTag("nvme.command.name", name);
        try
        {
            return await admin.SubmitAsync(sqe, kind, writeData, readBuffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Diagnostics.Telemetry.Fail(activity, e);
            Diagnostics.Telemetry.CountError(e, name);
            throw;
        }
    }
}
