using System.Buffers.Binary;

namespace NvmeTcp.Client;

/// <summary>
/// The Active Namespace ID list (Identify CNS 02h; NVMe Base 2.0, 4.4.2): up to 1024 little-endian
/// 32-bit NSIDs in increasing order, ended by the first 0.
/// </summary>
internal static class NvmeNamespaceList
{
    /// <summary>Most NSIDs one list holds (4096 bytes / 4).</summary>
    public const int MaxEntries = 1024;

    /// <summary>Reads the NSIDs up to the first 0, the 1024th entry, or the end of <paramref name="data"/>. Never throws.</summary>
    internal static IReadOnlyList<uint> Parse(ReadOnlySpan<byte> data)
    {
        int count = Math.Min(data.Length / 4, MaxEntries);
        var list = new List<uint>();
        for (int i = 0; i < count; i++)
        {
            uint nsid = BinaryPrimitives.ReadUInt32LittleEndian(data[(4 * i)..]);
            if (nsid == 0)
            {
                break;
            }

            list.Add(nsid);
        }

        return list.AsReadOnly();
    }
}
