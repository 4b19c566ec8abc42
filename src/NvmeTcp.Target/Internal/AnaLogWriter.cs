using System.Buffers.Binary;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// The Asymmetric Namespace Access log (LID 0Ch, <see cref="AnaLogLayout"/>) as one controller sees it: the header
/// (the target's CHGCNT, NUMANAGD), then a descriptor per ANA group, by ascending ANAGRPID: group 1 (nvmet's default
/// group, which it always lists) and every group that holds a namespace of the subsystem, each with its state and
/// CHGCNT on the port the command came through and its NSIDs ascending (none with RGO). nvmet
/// (<c>nvmet_execute_get_log_page_ana</c>) also lists groups created on any port that hold no namespace, and gives
/// each descriptor the global CHGCNT.
/// </summary>
internal static class AnaLogWriter
{
    /// <summary>nvmet's NVMET_DEFAULT_ANA_GRPID: exists on every port, listed even without namespaces.</summary>
    public const uint DefaultGroup = 1;

    /// <summary>The log's size now: header, descriptors and, without RGO, an NSID per namespace.</summary>
    public static int SizeFor(TargetSubsystem subsystem, bool returnGroupsOnly)
    {
        var namespaces = subsystem.Namespaces;
        var groups = Groups(namespaces).Count();
        return AnaLogLayout.HeaderSize + (groups * AnaLogLayout.DescriptorSize) + (returnGroupsOnly ? 0 : namespaces.Count * AnaLogLayout.NsidSize);
    }

    /// <summary>Writes the log into <paramref name="log"/>, whole descriptors only (namespaces added since it was sized are left out).</summary>
    public static void Write(Span<byte> log, NvmeTcpTarget target, TargetSubsystem subsystem, ushort portId, bool returnGroupsOnly)
    {
        log.Clear();
        var (changeCount, states) = target.AnaSnapshot(portId);
        var offset = AnaLogLayout.HeaderSize;
        ushort count = 0;
        var namespaces = subsystem.Namespaces;
        foreach (var group in Groups(namespaces))
        {
            var nsids = returnGroupsOnly ? [] : namespaces.Where(n => n.AnaGroupId == group).Select(n => n.Nsid).Order().ToArray();
            var length = (int)AnaLogLayout.DescriptorLength((uint)nsids.Length);
            if (offset + length > log.Length)
            {
                break;
            }

            var d = log.Slice(offset, length);
            BinaryPrimitives.WriteUInt32LittleEndian(d[AnaLogLayout.GroupId..], group);
            BinaryPrimitives.WriteUInt32LittleEndian(d[AnaLogLayout.NamespaceCount..], (uint)nsids.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(d[AnaLogLayout.GroupChangeCount..], states.ChangeCount(group));
            d[AnaLogLayout.State] = (byte)states[group];
            for (var i = 0; i < nsids.Length; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(d[(AnaLogLayout.DescriptorSize + (i * AnaLogLayout.NsidSize))..], nsids[i]);
            }

            offset += length;
            count++;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(log[AnaLogLayout.ChangeCount..], changeCount);
        BinaryPrimitives.WriteUInt16LittleEndian(log[AnaLogLayout.GroupDescriptorCount..], count);
    }

    private static IEnumerable<uint> Groups(IReadOnlyList<TargetNamespace> namespaces) =>
        namespaces.Select(n => n.AnaGroupId).Append(DefaultGroup).Distinct().Order();
}
