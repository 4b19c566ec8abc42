using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// Persistent reservations against Linux nvmet (6.13 and later; the newest kernel's VM serves
/// nqn.2026-11.dev.nvmetcp:resv with resv_enable set): two hosts (two Host IDs) through our typed API.
/// </summary>
public sealed partial class ReservationTests(NvmetVms vms) : InteropTest(vms)
{
    private const string ResvNqn = "nqn.2026-11.dev.nvmetcp:resv";

    private async Task<NvmeTcpOptions> HostAsync(Guid id)
    {
        var vm = await VmAsync("newest");
        var options = new NvmeTcpOptions { Address = "127.0.0.1", Port = vm.Port, SubsystemNqn = ResvNqn, IoQueueCount = 1, IoQueueSize = 32 };
        options.UseIdentity(new NvmeHostIdentity(NvmeHostIdentity.NqnOf(id), id, NvmeHostIdentitySource.Random));
        return options;
    }

    private static async Task AssertConflictAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<NvmeStatusException>(action);
        Assert.True(error.Status.Is(StatusCodes.ReservationConflict), error.Message);
    }

    [Fact]
    public async Task Nvmet_honours_register_acquire_report_and_release_from_two_hosts()
    {
        var token = Timeout();
        var idA = Guid.NewGuid();
        var idB = Guid.NewGuid();
        await using var a = await NvmeController.ConnectAsync(await HostAsync(idA), token);
        await using var b = await NvmeController.ConnectAsync(await HostAsync(idB), token);
        Assert.NotEqual(0, a.Identify.Oncs & (1 << 5)); // ONCS: Reservations
        var nsA = a.GetNamespace(1);
        var nsB = b.GetNamespace(1);
        var qa = a.IoQueues[0];
        var qb = b.IoQueues[0];
        var block = new byte[nsA.BlockSize];
        Random.Shared.NextBytes(block);

        await qa.RegisterReservationKeyAsync(nsA, ReservationRegisterAction.Register, 0, 0xA1, cancellationToken: token);
        await qb.RegisterReservationKeyAsync(nsB, ReservationRegisterAction.Register, 0, 0xB2, cancellationToken: token);
        await qa.AcquireReservationAsync(nsA, ReservationAcquireAction.Acquire, ReservationType.WriteExclusive, 0xA1, cancellationToken: token);

        // nvmet's report, parsed by ours: both registrants, A holding Write Exclusive.
        var report = await qb.GetReservationReportAsync(nsB, token);
        Assert.Equal(ReservationType.WriteExclusive, report.Type);
        Assert.Equal(2, report.RegisteredControllers);
        var holder = Assert.Single(report.Registrants, r => r.HoldsReservation);
        Assert.Equal((idA, 0xA1ul), (holder.HostId, holder.Key));
        Assert.Contains(report.Registrants, r => r.HostId == idB && r.Key == 0xB2 && !r.HoldsReservation);

        await qa.WriteAsync(nsA, 0, block, cancellationToken: token);
        var back = new byte[block.Length];
        await qb.ReadAsync(nsB, 0, back, token);
        Assert.Equal(block, back);
        await AssertConflictAsync(() => qb.WriteAsync(nsB, 0, block, cancellationToken: token).AsTask());

        await qa.ReleaseReservationAsync(nsA, ReservationReleaseAction.Release, ReservationType.WriteExclusive, 0xA1, cancellationToken: token);
        await qb.WriteAsync(nsB, 0, block, cancellationToken: token);
        Assert.Equal(ReservationType.None, (await qa.GetReservationReportAsync(nsA, token)).Type);

        // Unregister both, so the namespace is as it was for the next run.
        await qa.RegisterReservationKeyAsync(nsA, ReservationRegisterAction.Unregister, 0xA1, 0, cancellationToken: token);
        await qb.RegisterReservationKeyAsync(nsB, ReservationRegisterAction.Unregister, 0xB2, 0, cancellationToken: token);
        Assert.Empty((await qa.GetReservationReportAsync(nsA, token)).Registrants);
    }
}
