namespace NvmeTcp.Protocol;

/// <summary>Status Code Type (SCT) of a completion (NVMe Base 2.0, Figure 92).</summary>
public enum NvmeStatusCodeType : byte
{
    /// <summary>Generic Command Status.</summary>
    Generic = 0,

    /// <summary>Command Specific Status.</summary>
    CommandSpecific = 1,

    /// <summary>Media and Data Integrity Errors.</summary>
    MediaAndDataIntegrity = 2,

    /// <summary>Path Related Status.</summary>
    PathRelated = 3,

    /// <summary>Vendor Specific.</summary>
    VendorSpecific = 7,
}

/// <summary>
/// The status field of a completion queue entry (NVMe Base 2.0, 4.2.3): bits 1-15 of CQE dword 3's upper half.
/// <code>
/// bits 0-7    SC   status code
/// bits 8-10   SCT  status code type
/// bits 11-12  CRD  command retry delay
/// bit  13     M    more (the error log has more)
/// bit  14     DNR  do not retry
/// </code>
/// </summary>
public readonly partial struct NvmeStatus : IEquatable<NvmeStatus>
{
    private readonly ushort _value;

    private NvmeStatus(ushort value) => _value = (ushort)(value & 0x7FFF);

    /// <summary>Creates a status from its parts.</summary>
    /// <param name="type">SCT.</param>
    /// <param name="code">SC.</param>
    /// <param name="doNotRetry">DNR.</param>
    /// <param name="more">M.</param>
    /// <param name="retryDelay">CRD, 0 to 3.</param>
    public NvmeStatus(NvmeStatusCodeType type, byte code, bool doNotRetry = false, bool more = false, int retryDelay = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((byte)type, (byte)7, nameof(type));
        ArgumentOutOfRangeException.ThrowIfNegative(retryDelay);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(retryDelay, 3);
        _value = (ushort)(code | ((int)type << 8) | (retryDelay << 11) | (more ? 1 << 13 : 0) | (doNotRetry ? 1 << 14 : 0));
    }

    /// <summary>Successful Completion.</summary>
    public static NvmeStatus Success => default;

    /// <summary>SC: the status code, read with <see cref="CodeType"/>.</summary>
    public byte Code => (byte)_value;

    /// <summary>SCT: the status code type.</summary>
    public NvmeStatusCodeType CodeType => (NvmeStatusCodeType)((_value >> 8) & 0x7);

    /// <summary>CRD: which Command Retry Delay Time (Identify Controller CRDT1-3) to wait before a retry; 0 for none.</summary>
    public int RetryDelay => (_value >> 11) & 0x3;

    /// <summary>M: more status information is in the Error Information log page.</summary>
    public bool More => (_value & (1 << 13)) != 0;

    /// <summary>DNR: the same command would fail again if retried.</summary>
    public bool DoNotRetry => (_value & (1 << 14)) != 0;

    /// <summary>Whether the command succeeded (SCT 0, SC 0).</summary>
    public bool IsSuccess => (_value & 0x7FF) == 0;

    /// <summary>The 16-bit CQE status word with the phase bit clear.</summary>
    public ushort StatusField => (ushort)(_value << 1);

    /// <summary>Reads the status from the 16-bit CQE status word (bit 0, the phase tag, is ignored).</summary>
    public static NvmeStatus FromStatusField(ushort statusField) => new((ushort)(statusField >> 1));

    /// <inheritdoc/>
    public bool Equals(NvmeStatus other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NvmeStatus other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value;

    /// <summary>Equality of every status bit.</summary>
    public static bool operator ==(NvmeStatus left, NvmeStatus right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NvmeStatus left, NvmeStatus right) => !left.Equals(right);

    /// <summary>The spec's name and the raw values, e.g. <c>Invalid Field in Command (SCT 0x0, SC 0x02, DNR)</c>.</summary>
    public override string ToString() =>
        $"{Name} (SCT 0x{(int)CodeType:X}, SC 0x{Code:X2}{(DoNotRetry ? ", DNR" : string.Empty)}{(More ? ", M" : string.Empty)}{(RetryDelay != 0 ? $", CRD {RetryDelay}" : string.Empty)})";
}
