using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Set Features, admin opcode 0x09 (NVMe Base 2.0 "Set Features command") and Get Features, admin
/// opcode 0x0A ("Get Features command").
/// <code>
/// byte 4-7    NSID   0 unless the feature is namespace specific
/// byte 24-39  SGL1   transport data block, length 0 for the features here (they carry no data)
/// CDW10       Set: bits 0-7 FID, bit 31 SV (save across resets)
///             Get: bits 0-7 FID, bits 8-10 SEL (0 current, 1 default, 2 saved, 3 supported capabilities)
/// CDW11-15    feature specific value (Set); the current value returns in CQE DW0
/// </code>
/// </summary>
public static class FeatureCommands
{
    /// <summary>Set Features of <paramref name="featureId"/> to the value in CDW11 (and CDW12-15 if a feature needs them).</summary>
    public static Sqe Set(byte featureId, uint cdw11, bool save = false, uint nsid = 0)
    {
        var sqe = Sqe.Create((byte)AdminOpcode.SetFeatures, nsid);
        DataPointer.SetTransport(ref sqe, 0);
        sqe.Cdw10 = featureId | (save ? 1u << 31 : 0);
        sqe.Cdw11 = cdw11;
        return sqe;
    }

    /// <summary>Get Features of <paramref name="featureId"/>.</summary>
    /// <param name="featureId">FID.</param>
    /// <param name="select">SEL.</param>
    /// <param name="cdw11">Feature specific input, if any.</param>
    /// <param name="nsid">NSID of a namespace specific feature.</param>
    /// <param name="dataLength">Bytes of data the feature returns (most return none: the value is in CQE DW0).</param>
    public static Sqe Get(byte featureId, FeatureSelect select = FeatureSelect.Current, uint cdw11 = 0, uint nsid = 0, uint dataLength = 0)
    {
        var sqe = Sqe.Create((byte)AdminOpcode.GetFeatures, nsid);
        DataPointer.SetTransport(ref sqe, dataLength);
        sqe.Cdw10 = featureId | ((uint)select << 8);
        sqe.Cdw11 = cdw11;
        return sqe;
    }

    /// <summary>
    /// Set Features Number of Queues (FID 0x07): CDW11 bits 0-15 NSQR, bits 16-31 NCQR, both 0's based. The
    /// granted counts come back in CQE DW0 the same way.
    /// </summary>
    /// <param name="submissionQueues">I/O submission queues wanted, 1 to 65535.</param>
    /// <param name="completionQueues">I/O completion queues wanted, 1 to 65535.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count outside 1..65535 (0xFFFF 0's based is invalid).</exception>
    public static Sqe SetNumberOfQueues(int submissionQueues, int completionQueues)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(submissionQueues, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(submissionQueues, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(completionQueues, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(completionQueues, 65535);
        return Set(FeatureId.NumberOfQueues, (uint)(submissionQueues - 1) | ((uint)(completionQueues - 1) << 16));
    }

    /// <summary>Set Features Keep Alive Timer (FID 0x0F): CDW11 is KATO in ms.</summary>
    public static Sqe SetKeepAliveTimer(uint keepAliveTimeoutMs) => Set(FeatureId.KeepAliveTimer, keepAliveTimeoutMs);

    /// <summary>
    /// Set Features Asynchronous Event Configuration (FID 0x0B): CDW11 says which notices complete an
    /// Asynchronous Event Request.
    /// </summary>
    public static Sqe SetAsyncEventConfiguration(AsyncEventConfiguration events) => Set(FeatureId.AsyncEventConfiguration, (uint)events);
}

/// <summary>SEL, CDW10 bits 8-10 of Get Features.</summary>
public enum FeatureSelect : byte
{
    /// <summary>The current value.</summary>
    Current = 0,

    /// <summary>The default value.</summary>
    Default = 1,

    /// <summary>The saved value.</summary>
    Saved = 2,

    /// <summary>Whether the feature is saveable, namespace specific and changeable (returned in DW0).</summary>
    SupportedCapabilities = 3,
}
