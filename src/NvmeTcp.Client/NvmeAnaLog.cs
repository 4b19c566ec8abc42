using System.Buffers.Binary;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>
/// Log page 0Ch, Asymmetric Namespace Access (see <see cref="AnaLogLayout"/>): the ANA state of each ANA group as
/// seen through the controller that returned it, that is, through one path.
/// </summary>
public sealed class NvmeAnaLog
{
    private NvmeAnaLog(ulong changeCount, IReadOnlyList<NvmeAnaGroup> groups, bool groupsOnly)
    {
        ChangeCount = changeCount;
        Groups = groups;
        GroupsOnly = groupsOnly;
    }

    /// <summary>CHGCNT: incremented by the controller whenever the log changes.</summary>
    public ulong ChangeCount { get; }

    /// <summary>The group descriptors, in the order the controller returned them.</summary>
    public IReadOnlyList<NvmeAnaGroup> Groups { get; }

    /// <summary>Whether the log was read with RGO (groups only), so the descriptors carry no NSID lists.</summary>
    public bool GroupsOnly { get; }

    /// <summary>The state of group <paramref name="groupId"/>, or <see cref="AnaState.None"/> when the log does not list it.</summary>
    /// <param name="groupId">ANAGRPID.</param>
    /// <returns>The state.</returns>
    public AnaState StateOf(uint groupId)
    {
        foreach (var group in Groups)
        {
            if (group.GroupId == groupId)
            {
                return group.State;
            }
        }

        return AnaState.None;
    }

    /// <summary>
    /// Parses the log. Every count is checked against the bytes present: a descriptor or NSID list that runs past
    /// <paramref name="data"/> is an error, never read beyond it.
    /// </summary>
    /// <param name="data">The log as read.</param>
    /// <param name="groupsOnly">Whether it was read with RGO; then every NNSIDS must be 0.</param>
    /// <returns>The log.</returns>
    /// <exception cref="InvalidDataException">The counts do not fit the data.</exception>
    public static NvmeAnaLog Parse(ReadOnlySpan<byte> data, bool groupsOnly = false)
    {
        if (data.Length < AnaLogLayout.HeaderSize)
        {
            throw new InvalidDataException($"The ANA log needs at least {AnaLogLayout.HeaderSize} bytes, not {data.Length}.");
        }

        var changeCount = BinaryPrimitives.ReadUInt64LittleEndian(data[AnaLogLayout.ChangeCount..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(data[AnaLogLayout.GroupDescriptorCount..]);
        var groups = new NvmeAnaGroup[count];
        long offset = AnaLogLayout.HeaderSize;
        for (var i = 0; i < count; i++)
        {
            if (data.Length - offset < AnaLogLayout.DescriptorSize)
            {
                throw new InvalidDataException($"ANA log: descriptor {i} of {count} starts at byte {offset} but the log has {data.Length} bytes.");
            }

            var d = data[(int)offset..];
            var nsids = BinaryPrimitives.ReadUInt32LittleEndian(d[AnaLogLayout.NamespaceCount..]);
            if (groupsOnly && nsids != 0)
            {
                throw new InvalidDataException($"ANA log read with RGO: descriptor {i} lists {nsids} NSIDs.");
            }

            var length = AnaLogLayout.DescriptorLength(nsids);
            if (data.Length - offset < length)
            {
                throw new InvalidDataException($"ANA log: descriptor {i} lists {nsids} NSIDs, more than the {data.Length - offset - AnaLogLayout.DescriptorSize} bytes after it hold.");
            }

            var ids = new uint[nsids];
            for (var n = 0; n < ids.Length; n++)
            {
                ids[n] = BinaryPrimitives.ReadUInt32LittleEndian(d[(AnaLogLayout.DescriptorSize + (n * AnaLogLayout.NsidSize))..]);
            }

            groups[i] = new NvmeAnaGroup(
                BinaryPrimitives.ReadUInt32LittleEndian(d[AnaLogLayout.GroupId..]),
                BinaryPrimitives.ReadUInt64LittleEndian(d[AnaLogLayout.GroupChangeCount..]),
                (AnaState)(d[AnaLogLayout.State] & AnaLogLayout.StateMask),
                ids);
            offset += length;
        }

        return new NvmeAnaLog(changeCount, groups, groupsOnly);
    }

    /// <summary>
    /// The bytes to read for a controller's log: header, NANAGRPID descriptors and (unless RGO) NN NSIDs, bounded.
    /// </summary>
    internal static int SizeFor(NvmeIdentifyController identify, bool groupsOnly)
    {
        // Identify values come from the peer: bound them (Linux sizes the buffer from the same fields, capped by MDTS).
        const long Max = 256 * 1024;
        var groups = Math.Min((long)identify.Nanagrpid, 4096);
        var namespaces = groupsOnly ? 0 : Math.Min((long)identify.Nn, 16384);
        var size = AnaLogLayout.HeaderSize + (groups * AnaLogLayout.DescriptorSize) + (namespaces * AnaLogLayout.NsidSize);
        return (int)Math.Min(size, Max);
    }
}

/// <summary>One ANA group descriptor of <see cref="NvmeAnaLog"/>.</summary>
public sealed class NvmeAnaGroup
{
    /// <summary>Creates the descriptor.</summary>
    /// <param name="groupId">ANAGRPID.</param>
    /// <param name="changeCount">The group's CHGCNT.</param>
    /// <param name="state">ANAS.</param>
    /// <param name="namespaceIds">The NSIDs in the group (empty when read with RGO).</param>
    public NvmeAnaGroup(uint groupId, ulong changeCount, AnaState state, IReadOnlyList<uint> namespaceIds)
    {
        GroupId = groupId;
        ChangeCount = changeCount;
        State = state;
        NamespaceIds = namespaceIds;
    }

    /// <summary>ANAGRPID.</summary>
    public uint GroupId { get; }

    /// <summary>CHGCNT of the group.</summary>
    public ulong ChangeCount { get; }

    /// <summary>ANAS: the group's state through this controller.</summary>
    public AnaState State { get; }

    /// <summary>The NSIDs attached to this controller in the group (empty when read with RGO).</summary>
    public IReadOnlyList<uint> NamespaceIds { get; }

    /// <inheritdoc/>
    public override string ToString() => $"ANA group {GroupId}: {State}, {NamespaceIds.Count} namespaces, change count {ChangeCount}";
}
