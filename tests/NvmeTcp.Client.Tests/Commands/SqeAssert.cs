using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Commands;

/// <summary>Compares a built SQE with golden bytes as hex, so a failure shows where they differ.</summary>
internal static class SqeAssert
{
    /// <summary>Sets the CID the transport would have assigned, then compares all 64 bytes.</summary>
    public static void Equal(string expectedHex, Sqe actual, ushort cid = 0)
    {
        Assert.Equal(128, expectedHex.Length);
        actual.Cid = cid;
        Assert.Equal(expectedHex, Convert.ToHexStringLower(actual));
    }
}
