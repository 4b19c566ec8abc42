namespace NvmeTcp.Interop.Tests;

/// <summary>What the Linux host test counts as the kernel complaining about our target (no VM needed).</summary>
public sealed class KernelComplaintTests
{
    [Fact]
    public void A_keep_alive_failed_by_the_host_while_it_removes_the_controller_is_not_a_complaint()
    {
        // From a CI run: the controller is being removed when its keep-alive work fires.
        string[] teardown =
        [
            "[   10.967474] nvme nvme0: Removing ctrl: NQN \"nqn.2026-11.dev.nvmetcp:linux-host\"",
            "[   11.229491] nvme nvme0: long keepalive RTT (4294683576 ms)",
            "[   11.229614] nvme nvme0: failed nvme_keep_alive_end_io error=4",
            "[   11.316031] nvme nvme0: new ctrl: NQN \"nqn.2014-08.org.nvmexpress.discovery\", addr 10.0.2.2:4420",
        ];
        Assert.Empty(LinuxHostTests.KernelComplaints(teardown));
    }

    [Fact]
    public void A_keep_alive_that_fails_on_a_live_controller_or_with_another_status_is_a_complaint()
    {
        string[] live =
        [
            "[    9.100000] nvme nvme0: new ctrl: NQN \"nqn.2026-11.dev.nvmetcp:linux-host\", addr 10.0.2.2:4420",
            "[   11.229614] nvme nvme0: failed nvme_keep_alive_end_io error=4",
        ];
        Assert.Single(LinuxHostTests.KernelComplaints(live));

        // Removing nvme1 does not excuse nvme0; a timeout (2) during removal is still a complaint.
        string[] other =
        [
            "[   10.000000] nvme nvme1: Removing ctrl: NQN \"nqn.2026-11.dev.nvmetcp:linux-host\"",
            "[   10.100000] nvme nvme0: failed nvme_keep_alive_end_io error=4",
            "[   10.200000] nvme nvme1: failed nvme_keep_alive_end_io error=2",
            "[   10.300000] nvme nvme1: I/O tag 3 (0003) type 4 opcode 0x18 (Keep Alive) QID 0 timeout",
        ];
        Assert.Equal(3, LinuxHostTests.KernelComplaints(other).Count);
    }
}
