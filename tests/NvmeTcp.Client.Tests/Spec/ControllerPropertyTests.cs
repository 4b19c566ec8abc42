using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Tests.Spec;

// Known answers are what Linux nvmet and the Linux host put on the wire (linux-6.1-initiator.pcap).
public class ControllerPropertyTests
{
    // nvmet's CAP: MQES 1023, CQR 0, TO 15, CSS bits 37 (NVM) and 43 (I/O command sets), MPSMIN 0.
    private const ulong NvmetCap = 0x000008200f0003ff;

    [Fact]
    public void Nvmet_cap_reads_as_its_fields()
    {
        Assert.Equal(1024, ControllerCapabilities.MaxQueueEntries(NvmetCap)); // MQES 1023, 0's based
        Assert.Equal(TimeSpan.FromSeconds(7.5), ControllerCapabilities.Timeout(NvmetCap)); // TO 15 x 500 ms
        Assert.Equal(CommandSetsSupported.Nvm | CommandSetsSupported.IoCommandSets, ControllerCapabilities.CommandSets(NvmetCap));
        Assert.Equal(0UL, NvmetCap & ControllerCapabilities.ContiguousQueuesRequired);
        Assert.Equal(4096, ControllerCapabilities.MinimumPageSize(NvmetCap));
        Assert.Equal(4096, ControllerCapabilities.MaximumPageSize(NvmetCap));
    }

    [Fact]
    public void Nvmet_cap_is_built_from_its_fields() =>
        Assert.Equal(NvmetCap, ControllerCapabilities.Create(1024, TimeSpan.FromSeconds(7.5), CommandSetsSupported.Nvm | CommandSetsSupported.IoCommandSets));

    [Fact]
    public void Cap_fields_land_on_their_bits()
    {
        var cap = ControllerCapabilities.Create(128, TimeSpan.FromMilliseconds(500), CommandSetsSupported.Nvm, contiguousQueuesRequired: true, minimumPageSize: 8192, maximumPageSize: 1 << 16);
        Assert.Equal(127UL | (1UL << 16) | (1UL << 24) | (1UL << 37) | (1UL << 48) | (4UL << 52), cap);
        Assert.Equal(8192, ControllerCapabilities.MinimumPageSize(cap));
        Assert.Equal(1 << 16, ControllerCapabilities.MaximumPageSize(cap));
    }

    [Fact]
    public void Cap_timeout_rounds_up_to_500_ms_units_and_refuses_what_does_not_fit()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), ControllerCapabilities.Timeout(ControllerCapabilities.Create(2, TimeSpan.FromMilliseconds(501), CommandSetsSupported.Nvm)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControllerCapabilities.Create(2, TimeSpan.FromSeconds(128), CommandSetsSupported.Nvm));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControllerCapabilities.Create(1, TimeSpan.Zero, CommandSetsSupported.Nvm));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControllerCapabilities.Create(65537, TimeSpan.Zero, CommandSetsSupported.Nvm));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControllerCapabilities.Create(2, TimeSpan.Zero, CommandSetsSupported.Nvm, minimumPageSize: 6000));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControllerCapabilities.Create(2, TimeSpan.Zero, CommandSetsSupported.Nvm, minimumPageSize: 8192, maximumPageSize: 4096));
    }

    // Frames 31 and 44: the Linux host writes CC with CSS 110b, IOSQES 6, IOCQES 4, then again with EN.
    [Theory]
    [InlineData(false, 0x00460060u)]
    [InlineData(true, 0x00460061u)]
    public void Linux_cc_is_built_from_its_fields(bool enable, uint expected) =>
        Assert.Equal(expected, ControllerConfiguration.Create(enable, CommandSetSelection.AllIoCommandSets));

    [Fact]
    public void Linux_cc_reads_as_its_fields()
    {
        const uint cc = 0x00460061;
        Assert.True(ControllerConfiguration.IsEnabled(cc));
        Assert.Equal(CommandSetSelection.AllIoCommandSets, ControllerConfiguration.CommandSet(cc));
        Assert.Equal(4096, ControllerConfiguration.MemoryPageSize(cc));
        Assert.Equal(0, ControllerConfiguration.ArbitrationMechanism(cc));
        Assert.Equal(ShutdownNotification.None, ControllerConfiguration.Shutdown(cc));
        Assert.Equal(ControllerConfiguration.SqeSizeLog2, ControllerConfiguration.IoSubmissionQueueEntrySize(cc));
        Assert.Equal(ControllerConfiguration.CqeSizeLog2, ControllerConfiguration.IoCompletionQueueEntrySize(cc));
        Assert.Equal(64, 1 << ControllerConfiguration.SqeSizeLog2);
        Assert.Equal(16, 1 << ControllerConfiguration.CqeSizeLog2);
    }

    [Fact]
    public void Cc_shutdown_notification_is_bits_14_and_15_and_keeps_the_rest()
    {
        Assert.Equal(0x00464061u, ControllerConfiguration.WithShutdown(0x00460061, ShutdownNotification.Normal));
        Assert.Equal(0x00468061u, ControllerConfiguration.WithShutdown(0x00464061, ShutdownNotification.Abrupt));
        Assert.Equal(0x00460061u, ControllerConfiguration.WithShutdown(0x0046C061, ShutdownNotification.None));
        Assert.Equal(ShutdownNotification.Normal, ControllerConfiguration.Shutdown(0x00464061));
    }

    [Fact]
    public void Cc_fields_land_on_their_bits() =>
        Assert.Equal(
            1u | (7u << 4) | (1u << 7) | (3u << 11) | (2u << 14) | (5u << 16) | (3u << 20),
            ControllerConfiguration.Create(true, CommandSetSelection.AdminOnly, memoryPageSize: 8192, ioSubmissionQueueEntrySize: 5, ioCompletionQueueEntrySize: 3, arbitrationMechanism: 3, shutdown: ShutdownNotification.Abrupt));

    private static readonly Gen<(CommandSetSelection Css, int Mps, int Sqes, int Ams, ShutdownNotification Shn)> CcFields =
        from css in Gen.Elements(CommandSetSelection.Nvm, CommandSetSelection.AllIoCommandSets, CommandSetSelection.AdminOnly)
        from mps in Gen.Choose(0, 15)
        from sqes in Gen.Choose(0, 15)
        from ams in Gen.Choose(0, 7)
        from shn in Gen.Elements(ShutdownNotification.None, ShutdownNotification.Normal, ShutdownNotification.Abrupt)
        select (css, mps, sqes, ams, shn);

    [Property(MaxTest = 300)]
    public Property Cc_fields_read_back_as_built() => Prop.ForAll(CcFields.ToArbitrary(), f =>
    {
        var cc = ControllerConfiguration.Create(true, f.Css, 4096 << f.Mps, f.Sqes, 15 - f.Sqes, f.Ams, f.Shn);
        return ControllerConfiguration.IsEnabled(cc)
            && ControllerConfiguration.CommandSet(cc) == f.Css
            && ControllerConfiguration.MemoryPageSize(cc) == 4096 << f.Mps
            && ControllerConfiguration.IoSubmissionQueueEntrySize(cc) == f.Sqes
            && ControllerConfiguration.IoCompletionQueueEntrySize(cc) == 15 - f.Sqes
            && ControllerConfiguration.ArbitrationMechanism(cc) == f.Ams
            && ControllerConfiguration.Shutdown(cc) == f.Shn;
    });

    [Fact]
    public void Csts_known_values()
    {
        // Ready; then nvmet after CC.SHN: RDY clear, SHST 10b.
        Assert.True(ControllerStatus.IsReady(0x1));
        Assert.False(ControllerStatus.IsFatal(0x1));
        Assert.Equal(ShutdownStatus.Normal, ControllerStatus.Shutdown(0x1));
        Assert.Equal(ShutdownStatus.Complete, ControllerStatus.Shutdown(0x8));
        Assert.False(ControllerStatus.IsReady(0x8));
        Assert.Equal(ShutdownStatus.Occurring, ControllerStatus.Shutdown(0x4));
        Assert.True(ControllerStatus.IsFatal(0x2));
        Assert.Equal(0x8u, ControllerStatus.WithShutdown(0, ShutdownStatus.Complete));
        Assert.Equal(0x13u, ControllerStatus.WithShutdown(0x1F, ShutdownStatus.Normal));
    }

    [Fact]
    public void Version_is_major_minor_tertiary()
    {
        Assert.Equal(new Version(1, 3, 0), ControllerVersion.ToVersion(0x00010300)); // nvmet's VER
        Assert.Equal(0x00020000u, ControllerVersion.Create(2, 0));
        Assert.Equal(0x00010403u, ControllerVersion.Create(1, 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ControllerVersion.Create(1, 256));
    }

    [Fact]
    public void Property_offsets_and_sizes()
    {
        Assert.Equal(
            [0x00u, 0x08u, 0x14u, 0x1Cu, 0x20u],
            new[] { ControllerProperty.Cap, ControllerProperty.Vs, ControllerProperty.Cc, ControllerProperty.Csts, ControllerProperty.Nssr });
    }
}
