using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Tests.Spec;

public class AsyncEventTests
{
    // Linux asks nvmet for namespace attribute and ANA change notices: Set Features FID 0Bh, CDW11 0x900 (frame 153).
    [Fact]
    public void Linux_asks_for_0x900()
    {
        const AsyncEventConfiguration linux = AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange;
        Assert.Equal(0x900u, (uint)linux);
        Assert.Equal(0x900u, FeatureCommands.SetAsyncEventConfiguration(linux).Cdw11);
    }

    [Theory]
    [InlineData(AsyncEventConfiguration.SmartAvailableSpare, 0)]
    [InlineData(AsyncEventConfiguration.SmartTemperature, 1)]
    [InlineData(AsyncEventConfiguration.SmartReliability, 2)]
    [InlineData(AsyncEventConfiguration.SmartReadOnly, 3)]
    [InlineData(AsyncEventConfiguration.SmartVolatileMemoryBackup, 4)]
    [InlineData(AsyncEventConfiguration.SmartPersistentMemoryRegionReadOnly, 5)]
    [InlineData(AsyncEventConfiguration.NamespaceAttribute, 8)]
    [InlineData(AsyncEventConfiguration.FirmwareActivation, 9)]
    [InlineData(AsyncEventConfiguration.TelemetryLog, 10)]
    [InlineData(AsyncEventConfiguration.AnaChange, 11)]
    [InlineData(AsyncEventConfiguration.PredictableLatencyEventAggregateLog, 12)]
    [InlineData(AsyncEventConfiguration.LbaStatusInformation, 13)]
    [InlineData(AsyncEventConfiguration.EnduranceGroupEventAggregateLog, 14)]
    [InlineData(AsyncEventConfiguration.NormalNvmSubsystemShutdown, 15)]
    [InlineData(AsyncEventConfiguration.DiscoveryLogChange, 31)]
    public void Configuration_bits(AsyncEventConfiguration flag, int bit) => Assert.Equal(1u << bit, (uint)flag);

    [Fact]
    public void Smart_configuration_bits_are_the_critical_warning_bits()
    {
        Assert.Equal(0xFFu, (uint)AsyncEventConfiguration.SmartCriticalWarnings);
        foreach (var warning in Enum.GetValues<SmartCriticalWarning>())
        {
            Assert.Equal((uint)warning, (uint)warning & (uint)AsyncEventConfiguration.SmartCriticalWarnings);
        }
    }

    // nvmet completes an Asynchronous Event Request for a namespace change with DW0 0x00040002: notice, 00h, log 04h.
    [Fact]
    public void Nvmet_namespace_change_notice()
    {
        var notice = AsyncEventCompletion.Notice(AsyncEventNotice.NamespaceAttributeChanged);
        Assert.Equal(0x00040002u, notice.ToDword0());
        var decoded = AsyncEventCompletion.FromDword0(0x00040002);
        Assert.Equal(new AsyncEventCompletion(AsyncEventType.Notice, 0x00, LogPageId.ChangedNamespaceList), decoded);
        Assert.True(decoded.IsNotice(AsyncEventNotice.NamespaceAttributeChanged));
        Assert.False(decoded.IsNotice(AsyncEventNotice.DiscoveryLogPageChange));
    }

    // A discovery controller's log change (libnvme's stafd waits for 0x70f002).
    [Fact]
    public void Discovery_log_change_notice() =>
        Assert.Equal(0x0070F002u, AsyncEventCompletion.Notice(AsyncEventNotice.DiscoveryLogPageChange).ToDword0());

    [Fact]
    public void A_smart_event_is_not_a_notice()
    {
        var smart = AsyncEventCompletion.FromDword0(0x00020101); // SMART, temperature threshold, log 02h
        Assert.Equal(AsyncEventType.SmartHealth, smart.Type);
        Assert.Equal(0x01, smart.Information);
        Assert.Equal(LogPageId.SmartHealth, smart.LogPageId);
        Assert.False(smart.IsNotice(AsyncEventNotice.FirmwareActivationStarting));
    }

    [Theory]
    [InlineData(AsyncEventNotice.NamespaceAttributeChanged, LogPageId.ChangedNamespaceList, AsyncEventConfiguration.NamespaceAttribute)]
    [InlineData(AsyncEventNotice.FirmwareActivationStarting, LogPageId.FirmwareSlot, AsyncEventConfiguration.FirmwareActivation)]
    [InlineData(AsyncEventNotice.TelemetryLogChanged, LogPageId.TelemetryControllerInitiated, AsyncEventConfiguration.TelemetryLog)]
    [InlineData(AsyncEventNotice.AnaChange, LogPageId.AsymmetricNamespaceAccess, AsyncEventConfiguration.AnaChange)]
    [InlineData(AsyncEventNotice.PredictableLatencyEventAggregateLogChange, LogPageId.PredictableLatencyEventAggregate, AsyncEventConfiguration.PredictableLatencyEventAggregateLog)]
    [InlineData(AsyncEventNotice.LbaStatusInformationAlert, LogPageId.LbaStatusInformation, AsyncEventConfiguration.LbaStatusInformation)]
    [InlineData(AsyncEventNotice.EnduranceGroupEventAggregateLogChange, LogPageId.EnduranceGroupEventAggregate, AsyncEventConfiguration.EnduranceGroupEventAggregateLog)]
    [InlineData(AsyncEventNotice.DiscoveryLogPageChange, LogPageId.Discovery, AsyncEventConfiguration.DiscoveryLogChange)]
    public void Each_notice_has_its_log_and_its_enabling_bit(AsyncEventNotice notice, byte logPage, AsyncEventConfiguration bit)
    {
        Assert.Equal(logPage, AsyncEventNotices.LogPageOf(notice));
        Assert.Equal(bit, AsyncEventNotices.ConfigurationOf(notice));
        Assert.True(AsyncEventNotices.TryFromLogPage(logPage, out var back));
        Assert.Equal(notice, back);
    }

    [Fact]
    public void Logs_without_a_notice()
    {
        Assert.False(AsyncEventNotices.TryFromLogPage(LogPageId.SmartHealth, out _));
        Assert.False(AsyncEventNotices.TryFromLogPage(LogPageId.ErrorInformation, out _));
        Assert.Equal(0, AsyncEventNotices.LogPageOf((AsyncEventNotice)0x7F));
        Assert.Equal(AsyncEventConfiguration.None, AsyncEventNotices.ConfigurationOf((AsyncEventNotice)0x7F));
    }

    // Reserved bits 3-7 and 24-31 are dropped; everything else survives a decode and encode.
    [Property(MaxTest = 500)]
    public Property Dword0_round_trips() => Prop.ForAll(
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => (uint)i).ToArbitrary(),
        dw0 => AsyncEventCompletion.FromDword0(dw0).ToDword0() == (dw0 & 0x00FFFF07));
}
