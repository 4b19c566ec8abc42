namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>A temporary directory of one test (disk files, control sockets), deleted with everything in it on dispose.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        // Short: a unix socket path must fit in 108 bytes.
        Path = Directory.CreateTempSubdirectory("nvmetcp-interop-").FullName;
    }

    public string Path { get; }

    /// <summary>Creates a sparse file of <paramref name="bytes"/> zero bytes and returns its path.</summary>
    public string CreateDisk(string name, long bytes)
    {
        var path = System.IO.Path.Combine(Path, name);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        file.SetLength(bytes);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
