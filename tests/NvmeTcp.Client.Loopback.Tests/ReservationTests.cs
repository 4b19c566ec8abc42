using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Reservations between two hosts (two Host IDs) on one namespace of the in-process target.</summary>
public sealed class ReservationTests
{
    private static NvmeTcpOptions Host(NvmeTcp.Target.NvmeTcpTarget target, Guid id)
    {
        var options = ClientOptions(target, queues: 1);
        options.UseIdentity(new NvmeHostIdentity(NvmeHostIdentity.NqnOf(id), id, NvmeHostIdentitySource.Random));
        return options;
    }

    private static async Task AssertConflictAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<NvmeStatusException>(action);
        Assert.True(error.Status.Is(StatusCodes.ReservationConflict), error.Message);
    }

    [Fact]
    public async Task Write_exclusive_keeps_the_other_host_to_reads_until_released()
    {
        await using var target = await StartAsync();
        var idA = Guid.NewGuid();
        var idB = Guid.NewGuid();
        await using var a = await NvmeController.ConnectAsync(Host(target, idA)).WaitAsync(Bound);
        await using var b = await NvmeController.ConnectAsync(Host(target, idB)).WaitAsync(Bound);
        Assert.NotEqual(0, a.Identify.Oncs & (1 << 5));
        var nsA = a.GetNamespace(1);
        var nsB = b.GetNamespace(1);
        var qa = a.IoQueues[0];
        var qb = b.IoQueues[0];
        var block = Pattern(512, 5);

        await qa.RegisterReservationKeyAsync(nsA, ReservationRegisterAction.Register, 0, 0xA1).AsTask().WaitAsync(Bound);
        await qb.RegisterReservationKeyAsync(nsB, ReservationRegisterAction.Register, 0, 0xB2).AsTask().WaitAsync(Bound);
        await AssertConflictAsync(() => qb.RegisterReservationKeyAsync(nsB, ReservationRegisterAction.Register, 0, 0xB3).AsTask());
        await AssertConflictAsync(() => qa.AcquireReservationAsync(nsA, ReservationAcquireAction.Acquire, ReservationType.WriteExclusive, currentKey: 0xBAD).AsTask());
        await qa.AcquireReservationAsync(nsA, ReservationAcquireAction.Acquire, ReservationType.WriteExclusive, 0xA1).AsTask().WaitAsync(Bound);

        var report = await qb.GetReservationReportAsync(nsB).AsTask().WaitAsync(Bound);
        Assert.Equal(ReservationType.WriteExclusive, report.Type);
        Assert.Equal(2, report.RegisteredControllers);
        var holder = Assert.Single(report.Registrants, r => r.HoldsReservation);
        Assert.Equal((idA, 0xA1ul, a.ControllerId), (holder.HostId, holder.Key, holder.ControllerId));
        Assert.Contains(report.Registrants, r => r.HostId == idB && r.Key == 0xB2 && !r.HoldsReservation);

        // The holder writes; the other host reads but may not write; B cannot take it while A holds it.
        await qa.WriteAsync(nsA, 0, block).AsTask().WaitAsync(Bound);
        var back = new byte[512];
        await qb.ReadAsync(nsB, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(block, back);
        await AssertConflictAsync(() => qb.WriteAsync(nsB, 0, block).AsTask());
        await AssertConflictAsync(() => qb.WriteZeroesAsync(nsB, 0, 1).AsTask());
        await AssertConflictAsync(() => qb.AcquireReservationAsync(nsB, ReservationAcquireAction.Acquire, ReservationType.WriteExclusive, 0xB2).AsTask());

        await qa.ReleaseReservationAsync(nsA, ReservationReleaseAction.Release, ReservationType.WriteExclusive, 0xA1).AsTask().WaitAsync(Bound);
        await qb.WriteAsync(nsB, 0, block).AsTask().WaitAsync(Bound);
        Assert.Equal(ReservationType.None, (await qa.GetReservationReportAsync(nsA).AsTask().WaitAsync(Bound)).Type);
    }

    [Fact]
    public async Task Exclusive_access_blocks_reads_and_preempt_takes_it_over()
    {
        await using var target = await StartAsync();
        await using var a = await NvmeController.ConnectAsync(Host(target, Guid.NewGuid())).WaitAsync(Bound);
        await using var b = await NvmeController.ConnectAsync(Host(target, Guid.NewGuid())).WaitAsync(Bound);
        var nsA = a.GetNamespace(1);
        var nsB = b.GetNamespace(1);
        var qa = a.IoQueues[0];
        var qb = b.IoQueues[0];
        await qa.RegisterReservationKeyAsync(nsA, ReservationRegisterAction.Register, 0, 1).AsTask().WaitAsync(Bound);
        await qb.RegisterReservationKeyAsync(nsB, ReservationRegisterAction.Register, 0, 2).AsTask().WaitAsync(Bound);
        await qa.AcquireReservationAsync(nsA, ReservationAcquireAction.Acquire, ReservationType.ExclusiveAccess, 1).AsTask().WaitAsync(Bound);
        await AssertConflictAsync(() => qb.ReadAsync(nsB, 0, new byte[512]).AsTask());

        // B preempts A (PRKEY = A's key): A is unregistered, B holds the reservation.
        var before = (await qb.GetReservationReportAsync(nsB).AsTask().WaitAsync(Bound)).Generation;
        await qb.AcquireReservationAsync(nsB, ReservationAcquireAction.Preempt, ReservationType.ExclusiveAccess, 2, preemptKey: 1).AsTask().WaitAsync(Bound);
        var report = await qb.GetReservationReportAsync(nsB).AsTask().WaitAsync(Bound);
        Assert.True(report.Generation > before);
        var only = Assert.Single(report.Registrants);
        Assert.True(only.HoldsReservation);
        Assert.Equal(2ul, only.Key);
        await AssertConflictAsync(() => qa.ReadAsync(nsA, 0, new byte[512]).AsTask());
        await qb.ReadAsync(nsB, 0, new byte[512]).AsTask().WaitAsync(Bound);

        // Clear: no registrants, no reservation.
        await qb.ReleaseReservationAsync(nsB, ReservationReleaseAction.Clear, ReservationType.ExclusiveAccess, 2).AsTask().WaitAsync(Bound);
        var cleared = await qa.GetReservationReportAsync(nsA).AsTask().WaitAsync(Bound);
        Assert.Equal((ReservationType.None, 0), (cleared.Type, cleared.RegisteredControllers));
        await qa.ReadAsync(nsA, 0, new byte[512]).AsTask().WaitAsync(Bound);
    }
}
