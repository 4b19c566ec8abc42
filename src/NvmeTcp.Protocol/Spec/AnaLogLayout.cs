namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// The Asymmetric Namespace Access log page (LID 0Ch; NVMe Base 2.0, 5.16.1.13): a header of
/// <see cref="HeaderSize"/> bytes, then NUMANAGD group descriptors of <see cref="DescriptorSize"/> bytes, each
/// followed by its NNSIDS 4-byte NSIDs (none when the host asked for groups only, <see cref="ReturnGroupsOnly"/>).
/// Little-endian.
/// </summary>
public static class AnaLogLayout
{
    /// <summary>Size of the log header.</summary>
    public const int HeaderSize = 16;

    /// <summary>CHGCNT, Change Count of the whole log (8 bytes).</summary>
    public const int ChangeCount = 0;

    /// <summary>NUMANAGD, Number of ANA Group Descriptors (2 bytes).</summary>
    public const int GroupDescriptorCount = 8;

    /// <summary>Size of a group descriptor without its NSID list.</summary>
    public const int DescriptorSize = 32;

    /// <summary>ANAGRPID, the group's identifier (4 bytes, descriptor-relative).</summary>
    public const int GroupId = 0;

    /// <summary>NNSIDS, Number of NSID Values in the list after the descriptor (4 bytes).</summary>
    public const int NamespaceCount = 4;

    /// <summary>CHGCNT of the group (8 bytes).</summary>
    public const int GroupChangeCount = 8;

    /// <summary>ANAS, the group's ANA state (1 byte; bits 0-3, as <see cref="AnaState"/>).</summary>
    public const int State = 16;

    /// <summary>The mask of the state bits in <see cref="State"/>; bits 4-7 are reserved.</summary>
    public const byte StateMask = 0x0F;

    /// <summary>Size of one NSID in a descriptor's list.</summary>
    public const int NsidSize = 4;

    /// <summary>Get Log Page LSP bit 0, RGO: return the group descriptors without their NSID lists.</summary>
    public const byte ReturnGroupsOnly = 1 << 0;

    /// <summary>The bytes of a descriptor with <paramref name="namespaceCount"/> NSIDs after it.</summary>
    public static long DescriptorLength(uint namespaceCount) => DescriptorSize + ((long)namespaceCount * NsidSize);
}

/// <summary>ANA states (NVMe Base 2.0, 8.1.3), as the ANA log and path statuses name them.</summary>
public enum AnaState : byte
{
    /// <summary>No state reported (not a state the log uses).</summary>
    None = 0x00,

    /// <summary>01h: ANA Optimized.</summary>
    Optimized = 0x01,

    /// <summary>02h: ANA Non-Optimized.</summary>
    NonOptimized = 0x02,

    /// <summary>03h: ANA Inaccessible.</summary>
    Inaccessible = 0x03,

    /// <summary>04h: ANA Persistent Loss.</summary>
    PersistentLoss = 0x04,

    /// <summary>0Fh: ANA Change (in transition; ANATT bounds how long).</summary>
    Change = 0x0F,
}

/// <summary>ANACAP bits in Identify Controller (NVMe Base 2.0, Figure 275).</summary>
[Flags]
public enum AnaCapabilities : byte
{
    /// <summary>No ANA capability.</summary>
    None = 0,

    /// <summary>Bit 0: reports ANA Optimized.</summary>
    ReportsOptimized = 1 << 0,

    /// <summary>Bit 1: reports ANA Non-Optimized.</summary>
    ReportsNonOptimized = 1 << 1,

    /// <summary>Bit 2: reports ANA Inaccessible.</summary>
    ReportsInaccessible = 1 << 2,

    /// <summary>Bit 3: reports ANA Persistent Loss.</summary>
    ReportsPersistentLoss = 1 << 3,

    /// <summary>Bit 4: reports ANA Change.</summary>
    ReportsChange = 1 << 4,

    /// <summary>Bit 6: a namespace's ANAGRPID does not change while it is attached.</summary>
    GroupIdStatic = 1 << 6,

    /// <summary>Bit 7: non-zero ANAGRPID supported in Create Namespace.</summary>
    NonZeroGroupIdInCreate = 1 << 7,
}
