namespace NvmeTcp.Client.Tests.Parsers;

/// <summary>Payloads cut from the Linux captures; see TestData/README.md for where each came from.</summary>
internal static class CapturedData
{
    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", name));
}
