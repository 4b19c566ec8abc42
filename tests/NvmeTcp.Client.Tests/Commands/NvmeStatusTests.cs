using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Commands;

public class NvmeStatusTests
{
    [Fact]
    public void Status_field_layout_sc_1_8_sct_9_11_crd_12_13_m_14_dnr_15()
    {
        // Connect Invalid Host with DNR, as nvmet returns it: SC 0x84 << 1 | SCT 1 << 9 | DNR << 15.
        var status = NvmeStatus.FromStatusField(0x8308);
        Assert.Equal(NvmeStatusCodeType.CommandSpecific, status.CodeType);
        Assert.Equal(0x84, status.Code);
        Assert.True(status.DoNotRetry);
        Assert.False(status.More);
        Assert.Equal(0, status.RetryDelay);
        Assert.Equal(0x8308, status.StatusField);

        var other = NvmeStatus.FromStatusField((ushort)((0x22 << 1) | (2 << 12) | (1 << 14)));
        Assert.Equal(NvmeStatusCodeType.Generic, other.CodeType);
        Assert.Equal(0x22, other.Code);
        Assert.Equal(2, other.RetryDelay);
        Assert.True(other.More);
        Assert.False(other.DoNotRetry);
    }

    [Fact]
    public void Phase_bit_is_ignored()
    {
        Assert.True(NvmeStatus.FromStatusField(0x0001).IsSuccess);
        Assert.Equal(NvmeStatus.FromStatusField(0x0004), NvmeStatus.FromStatusField(0x0005));
        Assert.Equal(0x0004, NvmeStatus.FromStatusField(0x0005).StatusField);
    }

    [Fact]
    public void Status_field_round_trips_through_the_parts()
    {
        var status = new NvmeStatus(NvmeStatusCodeType.PathRelated, 0x03, doNotRetry: true, more: true, retryDelay: 3);
        Assert.Equal((ushort)((0x03 << 1) | (3 << 9) | (3 << 12) | (1 << 14) | (1 << 15)), status.StatusField);
        Assert.Equal(status, NvmeStatus.FromStatusField(status.StatusField));
    }

    [Theory]
    [InlineData(0, 0x00, "Successful Completion")]
    [InlineData(0, 0x01, "Invalid Command Opcode")]
    [InlineData(0, 0x02, "Invalid Field in Command")]
    [InlineData(0, 0x05, "Commands Aborted due to Power Loss Notification")]
    [InlineData(0, 0x08, "Command Aborted due to SQ Deletion")]
    [InlineData(0, 0x0B, "Invalid Namespace or Format")]
    [InlineData(0, 0x0C, "Command Sequence Error")]
    [InlineData(0, 0x11, "SGL Descriptor Type Invalid")]
    [InlineData(0, 0x17, "Unknown Status")]
    [InlineData(0, 0x22, "Transient Transport Error")]
    [InlineData(0, 0x80, "LBA Out of Range")]
    [InlineData(0, 0x84, "Format In Progress")]
    [InlineData(0, 0x85, "Unknown Status")]
    [InlineData(0, 0xC0, "Vendor Specific")]
    [InlineData(1, 0x00, "Completion Queue Invalid")]
    [InlineData(1, 0x05, "Asynchronous Event Request Limit Exceeded")]
    [InlineData(1, 0x09, "Invalid Log Page")]
    [InlineData(1, 0x0D, "Feature Identifier Not Saveable")]
    [InlineData(1, 0x0F, "Feature Not Namespace Specific")]
    [InlineData(1, 0x16, "Namespace Identifier Unavailable")]
    [InlineData(1, 0x80, "Conflicting Attributes")]
    [InlineData(1, 0x81, "Invalid Protection Information")]
    [InlineData(1, 0x82, "Attempted Write to Read Only Range")]
    [InlineData(1, 0x90, "Unknown Status")]
    [InlineData(1, 0xFF, "Vendor Specific")]
    [InlineData(2, 0x80, "Write Fault")]
    [InlineData(2, 0x81, "Unrecovered Read Error")]
    [InlineData(2, 0x82, "End-to-end Guard Check Error")]
    [InlineData(2, 0x85, "Compare Failure")]
    [InlineData(2, 0x87, "Deallocated or Unwritten Logical Block")]
    [InlineData(2, 0x00, "Unknown Status")]
    [InlineData(3, 0x00, "Internal Path Error")]
    [InlineData(3, 0x03, "Asymmetric Access Transition")]
    [InlineData(3, 0x60, "Controller Pathing Error")]
    [InlineData(3, 0x71, "Command Aborted By Host")]
    [InlineData(4, 0x00, "Unknown Status")]
    [InlineData(7, 0x12, "Vendor Specific")]
    public void Names(byte sct, byte sc, string expected) =>
        Assert.Equal(expected, new NvmeStatus((NvmeStatusCodeType)sct, sc).Name);

    [Theory]
    [InlineData(0x80, "Connect Incompatible Format")]
    [InlineData(0x81, "Connect Controller Busy")]
    [InlineData(0x82, "Connect Invalid Parameters")]
    [InlineData(0x83, "Connect Restart Discovery")]
    [InlineData(0x84, "Connect Invalid Host")]
    [InlineData(0x85, "Invalid Queue Type")]
    [InlineData(0x90, "Discover Restart")]
    [InlineData(0x91, "Authentication Required")]
    [InlineData(0x86, "Unknown Status")]
    [InlineData(0x01, "Invalid Queue Identifier")]
    public void Fabrics_names_of_command_specific_codes(byte sc, string expected) =>
        Assert.Equal(expected, new NvmeStatus(NvmeStatusCodeType.CommandSpecific, sc).NameFor(CommandKind.Fabrics));

    [Fact]
    public void Command_kind_matters_only_for_command_specific_codes_from_0x80()
    {
        var readOnly = new NvmeStatus(NvmeStatusCodeType.CommandSpecific, 0x82);
        Assert.Equal("Attempted Write to Read Only Range", readOnly.NameFor(CommandKind.Io));
        Assert.Equal("Attempted Write to Read Only Range", readOnly.NameFor(CommandKind.Admin));
        Assert.Equal("Connect Invalid Parameters", readOnly.NameFor(CommandKind.Fabrics));

        var lbaRange = new NvmeStatus(NvmeStatusCodeType.Generic, 0x80);
        Assert.Equal("LBA Out of Range", lbaRange.NameFor(CommandKind.Fabrics));
    }

    [Fact]
    public void Status_codes_compare_ignoring_dnr_m_and_crd()
    {
        var status = NvmeStatus.FromStatusField(0x8308);
        Assert.True(status.Is(StatusCodes.ConnectInvalidHost));
        Assert.False(status.Is(StatusCodes.ConnectInvalidParameters));
        Assert.Equal(status, NvmeStatus.FromTypeAndCode(StatusCodes.ConnectInvalidHost, doNotRetry: true));
        Assert.Equal(
            "Invalid Field in Command (SCT 0x0, SC 0x02, DNR)",
            NvmeStatus.FromTypeAndCode(StatusCodes.InvalidField, doNotRetry: true).ToString());
    }

    [Fact]
    public void Status_codes_match_their_names()
    {
        Assert.Equal("Transient Transport Error", NvmeStatus.FromTypeAndCode(StatusCodes.TransientTransportError).Name);
        Assert.Equal("Compare Failure", NvmeStatus.FromTypeAndCode(StatusCodes.CompareFailure).Name);
        Assert.Equal("SGL Descriptor Type Invalid", NvmeStatus.FromTypeAndCode(StatusCodes.SglDescriptorTypeInvalid).Name);
        Assert.Equal("Data SGL Length Invalid", NvmeStatus.FromTypeAndCode(StatusCodes.DataSglLengthInvalid).Name);
        Assert.Equal("Asymmetric Access Inaccessible", NvmeStatus.FromTypeAndCode(StatusCodes.AnaInaccessible).Name);
        Assert.Equal("Authentication Required", NvmeStatus.FromTypeAndCode(StatusCodes.AuthenticationRequired).NameFor(CommandKind.Fabrics));
    }
}
