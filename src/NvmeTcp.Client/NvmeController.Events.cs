using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Core;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client;

/// <summary>
/// Asynchronous events (NVMe Base 2.0, 5.2): Asynchronous Event Requests kept outstanding on the admin queue; a
/// completion is an event. Its log page is read (with RAE clear, which re-arms the event), what it changed is
/// refreshed, the request is sent again, and <see cref="AsyncEvent"/> is raised.
/// </summary>
public sealed partial class NvmeController
{
    // The notices this host acts on: namespace attribute changes (re-read the namespaces), ANA changes (re-read the
    // ANA log), discovery log changes.
    private const AsyncEventConfiguration HandledNotices = AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange | AsyncEventConfiguration.DiscoveryLogChange;
    private const int MaxAsyncEventRequests = 4;

    /// <summary>Raised for every asynchronous event, after the library has refreshed what it changed (namespaces).</summary>
    public event EventHandler<NvmeAsyncEventArgs>? AsyncEvent;

    private IEnumerable<Task> StartAsyncEvents(Association association)
    {
        var wanted = (AsyncEventConfiguration)association.Identify!.Oaes & HandledNotices;
        if (wanted == 0)
        {
            return [];
        }

        // Up to AERL + 1 requests outstanding (AERL is 0's based), no more than a few: each holds an admin slot.
        var count = Math.Min(association.Identify.Aerl + 1, MaxAsyncEventRequests);
        var admin = association.Admin;
        var token = association.Stopping.Token;
        return [Background(async () =>
        {
            try
            {
                await admin.SubmitAsync(FeatureCommands.SetAsyncEventConfiguration(wanted), CommandKind.Admin, default, default, token).ConfigureAwait(false);
            }
            catch (NvmeStatusException)
            {
                // The controller takes its defaults; events may still come.
            }
            catch (Exception e) when (e is OperationCanceledException or NvmeException)
            {
                // The association is going down.
                return;
            }

            await Task.WhenAll(Enumerable.Range(0, count).Select(_ => AsyncEventLoopAsync(association, token))).ConfigureAwait(false);
        })];
    }

    private async Task AsyncEventLoopAsync(Association association, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Cqe cqe;
            try
            {
                cqe = await association.Admin.SubmitAsync(AdminCommands.AsynchronousEventRequest(), CommandKind.Admin, default, default, token, Timeout.InfiniteTimeSpan).ConfigureAwait(false);
            }
            catch (NvmeStatusException)
            {
                // E.g. Asynchronous Event Request Limit Exceeded: fewer requests than hoped, which is fine.
                return;
            }
            catch (Exception e) when (e is OperationCanceledException or NvmeException)
            {
                // The association is going down; the next one sends its own requests.
                return;
            }

            try
            {
                await OnAsyncEventAsync(association, cqe.Dw0, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or NvmeException)
            {
                return;
            }
        }
    }

    private async Task OnAsyncEventAsync(Association association, uint dw0, CancellationToken token)
    {
        var completion = AsyncEventCompletion.FromDword0(dw0);
        Diagnostics.Telemetry.AsyncEvents.Add(1, new KeyValuePair<string, object?>("nvme.async_event.type", (int)completion.Type));
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.AsyncEvent(_logger, association.ControllerId, (int)completion.Type, completion.Information, completion.LogPageId);
        }

        IReadOnlyList<uint> changed = [];
        if (completion.IsNotice(AsyncEventNotice.NamespaceAttributeChanged))
        {
            changed = await RefreshChangedNamespacesAsync(association, token).ConfigureAwait(false);
        }
        else if (completion.IsNotice(AsyncEventNotice.AnaChange) && association.Identify!.ReportsAna)
        {
            // The whole log, RAE clear: re-arms the notice and gives the new states and group members at once.
            association.AnaLog = await ReadAnaLogAsync(association.Admin, association.Identify, groupsOnly: false, token).ConfigureAwait(false);
        }
        else if (completion.LogPageId != 0)
        {
            // Reading the log with RAE clear is what re-arms this event type; its first part is enough for that.
            var logPage = completion.LogPageId;
            var length = logPage switch
            {
                LogPageId.Discovery => NvmeDiscoveryLogHeader.Size,
                LogPageId.ErrorInformation => ErrorLogEntryLayout.Size,
                _ => SmartLogLayout.Size,
            };
            var data = new byte[length];
            await association.Admin.SubmitAsync(GetLogPageCommand.Create(logPage, (uint)length, logPage == LogPageId.Discovery ? 0 : 0xFFFFFFFF), CommandKind.Admin, default, data, token).ConfigureAwait(false);
        }

        if (AsyncEvent is { } handler)
        {
            var args = new NvmeAsyncEventArgs((byte)completion.Type, completion.Information, completion.LogPageId, changed);
            _events.Post(() => handler(this, args));
        }
    }

    // Changed Namespace List (LID 04h): up to 1024 NSIDs; FFFFFFFFh first means more changed than fit: re-read all.
    private static async Task<IReadOnlyList<uint>> RefreshChangedNamespacesAsync(Association association, CancellationToken token)
    {
        var data = new byte[NamespaceListLayout.Size];
        await association.Admin.SubmitAsync(GetLogPageCommand.Create(LogPageId.ChangedNamespaceList, NamespaceListLayout.Size, 0xFFFFFFFF), CommandKind.Admin, default, data, token).ConfigureAwait(false);
        var changed = NvmeNamespaceList.Parse(data);
        var all = changed.Count > 0 && changed[0] == NamespaceListLayout.Overflow;
        association.Namespaces = await ReadNamespacesAsync(association.Admin, token).ConfigureAwait(false);
        return all ? [.. association.Namespaces.Select(n => n.Id)] : changed;
    }

    // Log page 0Ch, sized from Identify (NANAGRPID descriptors, NN NSIDs), RAE clear.
    private static async Task<NvmeAnaLog> ReadAnaLogAsync(QueueConnection admin, NvmeIdentifyController identify, bool groupsOnly, CancellationToken token)
    {
        var (sqe, data) = AnaLogRequest(identify, groupsOnly);
        await admin.SubmitAsync(sqe, CommandKind.Admin, default, data, token).ConfigureAwait(false);
        return ParseAnaLog(data, groupsOnly);
    }

    private static (Sqe Sqe, byte[] Data) AnaLogRequest(NvmeIdentifyController identify, bool groupsOnly)
    {
        var length = NvmeAnaLog.SizeFor(identify, groupsOnly);
        var sqe = GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, (uint)length, 0xFFFFFFFF, logSpecific: groupsOnly ? AnaLogLayout.ReturnGroupsOnly : (byte)0);
        return (sqe, new byte[length]);
    }

    private static NvmeAnaLog ParseAnaLog(byte[] data, bool groupsOnly)
    {
        try
        {
            return NvmeAnaLog.Parse(data, groupsOnly);
        }
        catch (InvalidDataException e)
        {
            throw new NvmeException($"The controller's ANA log is malformed: {e.Message}", e);
        }
    }
}
