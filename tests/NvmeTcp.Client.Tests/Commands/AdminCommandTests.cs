using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Tests.Commands;

// Frame numbers refer to tests/NvmeTcp.Client.Tests/TestData/captures/linux-6.1-initiator.pcap, the copies arriving
// on port 4420.
// The capture has no Keep Alive, Abort or Get Features (the session lasts 2.5 s); those goldens follow the
// field layout of Linux's include/linux/nvme.h.
public class AdminCommandTests
{
    [Fact]
    public void Identify_controller_matches_capture_frame_58() =>
        SqeAssert.Equal(
            "0640020000000000000000000000000000000000000000000000000000000000001000000000005a010000000000000000000000000000000000000000000000",
            IdentifyCommand.Controller(),
            0x0002);

    [Fact]
    public void Identify_active_namespace_list_matches_capture_frame_176() =>
        SqeAssert.Equal(
            "06401c0000000000000000000000000000000000000000000000000000000000001000000000005a020000000000000000000000000000000000000000000000",
            IdentifyCommand.ActiveNamespaces(),
            0x001C);

    [Theory]
    [InlineData(1u, (ushort)0x001D, "06401d0001000000000000000000000000000000000000000000000000000000001000000000005a030000000000000000000000000000000000000000000000")] // frame 188
    [InlineData(2u, (ushort)0x101C, "06401c1002000000000000000000000000000000000000000000000000000000001000000000005a030000000000000000000000000000000000000000000000")] // frame 226
    public void Identify_namespace_descriptors_matches_capture(uint nsid, ushort cid, string expected) =>
        SqeAssert.Equal(expected, IdentifyCommand.NamespaceDescriptors(nsid), cid);

    [Theory]
    [InlineData(1u, (ushort)0x101A, "06401a1001000000000000000000000000000000000000000000000000000000001000000000005a000000000000000000000000000000000000000000000000")] // frame 200
    [InlineData(2u, (ushort)0x101D, "06401d1002000000000000000000000000000000000000000000000000000000001000000000005a000000000000000000000000000000000000000000000000")] // frame 251
    public void Identify_namespace_matches_capture(uint nsid, ushort cid, string expected) =>
        SqeAssert.Equal(expected, IdentifyCommand.Namespace(nsid), cid);

    [Fact]
    public void Identify_any_cns_matches_capture_frame_162() =>
        SqeAssert.Equal(
            "06401b0000000000000000000000000000000000000000000000000000000000001000000000005a060000000000000000000000000000000000000000000000",
            IdentifyCommand.Create(0x06),
            0x001B);

    [Fact]
    public void Identify_writes_cntid_and_csi() =>
        SqeAssert.Equal(
            "0640000000000000000000000000000000000000000000000000000000000000001000000000005a1200cdab0000000200000000000000000000000000000000",
            IdentifyCommand.Create(0x12, controllerId: 0xABCD, commandSetId: 2));

    [Fact]
    public void Get_log_page_commands_effects_matches_capture_frame_71() =>
        SqeAssert.Equal(
            "0240030000000000000000000000000000000000000000000000000000000000001000000000005a0500ff030000000000000000000000000000000000000000",
            GetLogPageCommand.Create(LogPageId.CommandsSupportedAndEffects, 4096),
            0x0003);

    [Fact]
    public void Get_log_page_ana_matches_capture_frame_83() =>
        SqeAssert.Equal(
            "02400400ffffffff000000000000000000000000000000000000000000000000102000000000005a0c0003080000000000000000000000000000000000000000",
            GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 0x2010, nsid: 0xFFFFFFFF),
            0x0004);

    [Fact]
    public void Get_log_page_smart_matches_capture_frame_104() =>
        SqeAssert.Equal(
            "02400500ffffffff000000000000000000000000000000000000000000000000000200000000005a02007f000000000000000000000000000000000000000000",
            GetLogPageCommand.Create(LogPageId.SmartHealth, 512, nsid: 0xFFFFFFFF),
            0x0005);

    [Fact]
    public void Get_log_page_splits_numd_and_offset_and_sets_lsp_rae_lsi() =>
        SqeAssert.Equal(
            "0240000007000000000000000000000000000000000000000000000000000000080004000000005a0c8101000100341208000000010000000000000000000000",
            GetLogPageCommand.Create(
                LogPageId.AsymmetricNamespaceAccess,
                length: 0x40008, // 0x10002 dwords: NUMD 0x10001 crosses into NUMDU
                nsid: 7,
                offset: 0x1_0000_0008,
                logSpecific: 1,
                retainAsyncEvent: true,
                logSpecificId: 0x1234));

    [Theory]
    [InlineData(0u, 0UL)]
    [InlineData(6u, 0UL)]
    [InlineData(4096u, 2UL)]
    public void Get_log_page_rejects_lengths_and_offsets_that_are_not_whole_dwords(uint length, ulong offset) =>
        Assert.ThrowsAny<ArgumentException>(() => GetLogPageCommand.Create(LogPageId.ErrorInformation, length, offset: offset));

    [Fact]
    public void Get_log_page_rejects_an_lsp_over_7_bits() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GetLogPageCommand.Create(LogPageId.ErrorInformation, 64, logSpecific: 0x80));

    [Fact]
    public void Set_features_number_of_queues_matches_capture_frame_109() =>
        SqeAssert.Equal(
            "0940021000000000000000000000000000000000000000000000000000000000000000000000005a070000000100010000000000000000000000000000000000",
            FeatureCommands.SetNumberOfQueues(2, 2),
            0x1002);

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(65536, 1)]
    public void Set_features_number_of_queues_rejects_counts_outside_1_to_65535(int sq, int cq) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureCommands.SetNumberOfQueues(sq, cq));

    [Fact]
    public void Set_features_async_event_configuration_matches_capture_frame_153() =>
        SqeAssert.Equal(
            "09401a0000000000000000000000000000000000000000000000000000000000000000000000005a0b0000000009000000000000000000000000000000000000",
            FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange),
            0x001A);

    [Fact]
    public void Set_features_keep_alive_timer() =>
        SqeAssert.Equal(
            "0940000000000000000000000000000000000000000000000000000000000000000000000000005a0f0000008813000000000000000000000000000000000000",
            FeatureCommands.SetKeepAliveTimer(5000));

    [Fact]
    public void Set_features_save_sets_bit_31() =>
        SqeAssert.Equal(
            "0940000000000000000000000000000000000000000000000000000000000000000000000000005a0f0000801027000000000000000000000000000000000000",
            FeatureCommands.Set(FeatureId.KeepAliveTimer, 10000, save: true));

    [Fact]
    public void Get_features_with_select() =>
        SqeAssert.Equal(
            "0a40000000000000000000000000000000000000000000000000000000000000000000000000005a0f0300000000000000000000000000000000000000000000",
            FeatureCommands.Get(FeatureId.KeepAliveTimer, FeatureSelect.SupportedCapabilities));

    [Fact]
    public void Asynchronous_event_request_matches_capture_frame_159() =>
        SqeAssert.Equal(
            "0c401f0000000000000000000000000000000000000000000000000000000000000000000000005a000000000000000000000000000000000000000000000000",
            AdminCommands.AsynchronousEventRequest(),
            0x001F);

    [Fact]
    public void Keep_alive() =>
        SqeAssert.Equal(
            "1840000000000000000000000000000000000000000000000000000000000000000000000000005a000000000000000000000000000000000000000000000000",
            AdminCommands.KeepAlive());

    [Fact]
    public void Abort_puts_sqid_low_and_cid_high() =>
        SqeAssert.Equal(
            "0840000000000000000000000000000000000000000000000000000000000000000000000000005a030034120000000000000000000000000000000000000000",
            AdminCommands.Abort(submissionQueueId: 3, commandId: 0x1234));
}
