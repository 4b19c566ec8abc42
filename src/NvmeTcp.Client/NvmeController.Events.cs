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
    // OAES / Asynchronous Event Configuration (FID 0Bh) bits: namespace attribute notices, discovery log change notices.
    private const uint NamespaceAttributeNotices = 1u << 8;
    private const uint DiscoveryLogChangeNotices = 1u << 31;
    private const int MaxAsyncEventRequests = 4;

    /// <summary>Raised for every asynchronous event, after the library has refreshed what it changed (namespaces).</summary>
    public event EventHandler<NvmeAsyncEventArgs>? AsyncEvent;

    private IEnumerable<Task> StartAsyncEvents(Association association)
    {
        var wanted = association.Identify!.Oaes & (NamespaceAttributeNotices | DiscoveryLogChangeNotices);
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
                await admin.SubmitAsync(FeatureCommands.SetAsyncEventConfiguration((AsyncEventConfiguration)wanted), CommandKind.Admin, default, default, token).ConfigureAwait(false);
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
        var type = (byte)(dw0 & 0x7);
        var information = (byte)((dw0 >> 8) & 0xFF);
        var logPage = (byte)((dw0 >> 16) & 0xFF);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.AsyncEvent(_logger, association.ControllerId, type, information, logPage);
        }

        var admin = association.Admin;
        IReadOnlyList<uint> changed = [];
        if (type == 2 && information == 0x00)
        {
            changed = await RefreshChangedNamespacesAsync(association, token).ConfigureAwait(false);
        }
        else if (logPage != 0)
        {
            // Reading the log with RAE clear is what re-arms this event type.
            var length = logPage switch
            {
                LogPageId.Discovery => NvmeDiscoveryLogHeader.Size,
                LogPageId.ErrorInformation => 64,
                _ => 512,
            };
            var data = new byte[length];
            await admin.SubmitAsync(GetLogPageCommand.Create(logPage, (uint)length, logPage == LogPageId.Discovery ? 0 : 0xFFFFFFFF), CommandKind.Admin, default, data, token).ConfigureAwait(false);
        }

        if (AsyncEvent is { } handler)
        {
            var args = new NvmeAsyncEventArgs(type, information, logPage, changed);
            _events.Post(() => handler(this, args));
        }
    }

    // Changed Namespace List (LID 04h): up to 1024 NSIDs; FFFFFFFFh first means more changed than fit: re-read all.
    private static async Task<IReadOnlyList<uint>> RefreshChangedNamespacesAsync(Association association, CancellationToken token)
    {
        var data = new byte[4096];
        await association.Admin.SubmitAsync(GetLogPageCommand.Create(LogPageId.ChangedNamespaceList, 4096, 0xFFFFFFFF), CommandKind.Admin, default, data, token).ConfigureAwait(false);
        var changed = NvmeNamespaceList.Parse(data);
        var all = changed.Count > 0 && changed[0] == 0xFFFFFFFF;
        association.Namespaces = await ReadNamespacesAsync(association.Admin, token).ConfigureAwait(false);
        return all ? [.. association.Namespaces.Select(n => n.Id)] : changed;
    }
}
