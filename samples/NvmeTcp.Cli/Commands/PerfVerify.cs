using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace NvmeTcp.Cli.Commands;

/// <summary>One block that did not read back as written: what was expected and what the header found says.</summary>
internal readonly record struct PerfMismatch(ulong Lba, ulong Seed, uint ExpectedSequence, ulong FoundLba, ulong FoundSeed, uint FoundSequence, int FirstBadByte)
{
    public override string ToString()
    {
        var expected = string.Create(CultureInfo.InvariantCulture, $"lba {Lba} seed {Seed:x16} seq {ExpectedSequence}");
        var found = string.Create(CultureInfo.InvariantCulture, $"lba {FoundLba} seed {FoundSeed:x16} seq {FoundSequence}");
        return string.Create(CultureInfo.InvariantCulture, $"LBA {Lba}: expected {expected}, found {found}, first differing byte at offset {FirstBadByte} of the block");
    }
}

/// <summary>
/// The block format of <c>perf --verify</c>: every block starts with a header (its LBA, the run's seed, the write's
/// sequence number, a magic) followed by a pattern derived from the header, so a block that was misplaced, stale
/// (an older write) or damaged is told apart. Stamping and checking allocate nothing.
/// </summary>
internal static class PerfVerify
{
    public const int HeaderSize = 32;

    private const ulong Magic = 0x5646_5250_5443_4D4E; // "NMCTPRFV" little-endian: easy to spot in a hex dump
    private const ulong Golden = 0x9E37_79B9_7F4A_7C15;

    /// <summary>Writes the expected content of the block at <paramref name="lba"/> into <paramref name="block"/>.</summary>
    public static void Fill(Span<byte> block, ulong lba, ulong seed, uint sequence)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(block, lba);
        BinaryPrimitives.WriteUInt64LittleEndian(block[8..], seed);
        BinaryPrimitives.WriteUInt32LittleEndian(block[16..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(block[20..], ~sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(block[24..], Magic);
        var words = MemoryMarshal.Cast<byte, ulong>(block[HeaderSize..]);
        var value = (lba * Golden) ^ seed ^ ((ulong)sequence << 32);
        for (var i = 0; i < words.Length; i++)
        {
            // A cheap xorshift step per word: no two words of a block, nor two blocks, look alike.
            value ^= value << 13;
            value ^= value >> 7;
            value ^= value << 17;
            words[i] = value;
        }
    }

    /// <summary>Stamps every block of an I/O buffer starting at <paramref name="lba"/>.</summary>
    public static void Stamp(Span<byte> buffer, int blockSize, ulong lba, ulong seed, uint sequence)
    {
        for (var offset = 0; offset < buffer.Length; offset += blockSize)
        {
            Fill(buffer.Slice(offset, blockSize), lba++, seed, sequence);
        }
    }

    /// <summary>
    /// Checks every block of an I/O buffer read from <paramref name="lba"/> against what the write with
    /// <paramref name="sequence"/> put there; <paramref name="scratch"/> is one block. Returns the number of bad
    /// blocks and puts the first into <paramref name="first"/>.
    /// </summary>
    public static int Check(ReadOnlySpan<byte> buffer, Span<byte> scratch, ulong lba, ulong seed, uint sequence, out PerfMismatch first)
    {
        first = default;
        var bad = 0;
        var blockSize = scratch.Length;
        for (var offset = 0; offset < buffer.Length; offset += blockSize, lba++)
        {
            var block = buffer.Slice(offset, blockSize);
            Fill(scratch, lba, seed, sequence);
            if (block.SequenceEqual(scratch))
            {
                continue;
            }

            if (bad++ == 0)
            {
                var at = block.CommonPrefixLength(scratch);
                first = new PerfMismatch(
                    lba,
                    seed,
                    sequence,
                    BinaryPrimitives.ReadUInt64LittleEndian(block),
                    BinaryPrimitives.ReadUInt64LittleEndian(block[8..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(block[16..]),
                    at);
            }
        }

        return bad;
    }
}
