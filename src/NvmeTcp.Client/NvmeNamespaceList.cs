using System.Buffers.Binary;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>
/// A namespace list (<see cref="NamespaceListLayout"/>): the Active Namespace ID list (Identify CNS 02h) or the
/// Changed Namespace List log (LID 04h).
/// </summary>
internal static class NvmeNamespaceList
{
    /// <summary>Reads the NSIDs up to the first 0, the 1024th entry, or the end of <paramref name="data"/>. Never throws.</summary>
    internal static IReadOnlyList<uint> Parse(ReadOnlySpan<byte> data)
    {
        int count = Math.Min(data.Length / NamespaceListLayout.EntrySize, NamespaceListLayout.MaxEntries);
        var list = new List<uint>();
        for (int i = 0; i < count; i++)
        {
            uint nsid = BinaryPrimitives.ReadUInt32LittleEndian(data[(NamespaceListLayout.EntrySize * i)..]);
            if (nsid == 0)
            {
                break;
            }

            list.Add(nsid);
        }

        return list.AsReadOnly();
    }
}
