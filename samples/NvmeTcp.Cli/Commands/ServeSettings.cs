using System.Globalization;
using System.Net;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Commands;

/// <summary>Parses the serve verb's textual arguments into <see cref="NvmeTargetOptions"/>.</summary>
internal static class ServeSettings
{
    public const string DefaultNqn = "nqn.2026-11.dev.nvmetcp:default";
    public const string DefaultNamespace = "1:1GiB:512";

    /// <summary>"host:port", "[v6]:port", or a bare address (port 4420).</summary>
    /// <exception cref="FormatException">Not an endpoint.</exception>
    public static IPEndPoint ParseEndPoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var endPoint))
        {
            if (endPoint.Port == 0 && !text.EndsWith(":0", StringComparison.Ordinal))
            {
                endPoint.Port = NvmeTargetOptions.DefaultPort;
            }

            return endPoint;
        }

        throw new FormatException($"'{text}' is not an IP endpoint such as 127.0.0.1:4420.");
    }

    /// <summary>"NSID=GROUP": a namespace's ANA group.</summary>
    /// <exception cref="FormatException">Not NSID=GROUP with two positive numbers.</exception>
    public static (uint Nsid, uint Group) ParseAnaGroup(string text)
    {
        var parts = text.Split('=');
        if (parts.Length == 2 && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var nsid)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var group) && nsid > 0 && group > 0)
        {
            return (nsid, group);
        }

        throw new FormatException($"--ana-group: '{text}' is not NSID=GROUP, e.g. 1=2.");
    }

    /// <summary>
    /// "NSID:SIZE[:BLOCK[:memory|null]]", e.g. 1:64MiB:512, 3:1TiB:4096:null; or "NSID:file:PATH[:BLOCK]", a file or
    /// block device that exists (its size is its length), e.g. 2:file:/var/lib/disk.img:4096.
    /// </summary>
    /// <exception cref="FormatException">Not a namespace description, or the file cannot be used.</exception>
    public static NvmeNamespaceOptions ParseNamespace(string text)
    {
        var parts = text.Split(':');
        if (parts.Length >= 3 && parts[1].Equals("file", StringComparison.OrdinalIgnoreCase))
        {
            return ParseFileNamespace(text, parts);
        }

        if (parts.Length is < 2 or > 4 || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var nsid))
        {
            throw new FormatException($"'{text}' is not NSID:SIZE[:BLOCK[:memory|null]].");
        }

        var size = ParseSize(parts[1]);
        var block = parts.Length > 2 ? int.Parse(parts[2], CultureInfo.InvariantCulture) : 512;
        var backing = parts.Length > 3 ? parts[3].ToUpperInvariant() switch
        {
            "NULL" => NvmeNamespaceBacking.Null,
            "MEMORY" or "MEM" => NvmeNamespaceBacking.Memory,
            _ => throw new FormatException($"Backing '{parts[3]}' is neither memory nor null."),
        } : NvmeNamespaceBacking.Memory;
        try
        {
            return new NvmeNamespaceOptions(nsid, size, block, backing);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException($"Namespace '{text}': {e.Message}", e);
        }
    }

    // NSID:file:PATH[:BLOCK]: a path may hold colons, so only a last part that is a block size is taken as one.
    private static NvmeNamespaceOptions ParseFileNamespace(string text, string[] parts)
    {
        if (!uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var nsid))
        {
            throw new FormatException($"'{text}' is not NSID:file:PATH[:BLOCK].");
        }

        var block = 512;
        var pathParts = parts[2..];
        if (pathParts.Length > 1 && pathParts[^1] is "512" or "4096")
        {
            block = int.Parse(pathParts[^1], CultureInfo.InvariantCulture);
            pathParts = pathParts[..^1];
        }

        var path = string.Join(':', pathParts);
        try
        {
            return NvmeNamespaceOptions.ForFile(nsid, path, block);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new FormatException($"Namespace '{text}': {e.Message}", e);
        }
    }

    /// <summary>A byte count with an optional binary suffix: 4096, 64KiB, 64MiB, 1GiB, 1TiB (K/M/G/T also accepted).</summary>
    public static long ParseSize(string text)
    {
        var units = new (string Suffix, int Shift)[] { ("TIB", 40), ("GIB", 30), ("MIB", 20), ("KIB", 10), ("T", 40), ("G", 30), ("M", 20), ("K", 10), ("B", 0) };
        var upper = text.Trim().ToUpperInvariant();
        foreach (var (suffix, shift) in units)
        {
            if (upper.EndsWith(suffix, StringComparison.Ordinal) && long.TryParse(upper[..^suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return checked(n << shift);
            }
        }

        return long.TryParse(upper, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
            ? bytes
            : throw new FormatException($"'{text}' is not a size such as 64MiB.");
    }

    /// <summary>as-requested (grant what the host asks) or refuse.</summary>
    public static NvmeDigestPolicy ParseDigestPolicy(string text) => text.ToUpperInvariant() switch
    {
        "AS-REQUESTED" or "ON" or "GRANT" => NvmeDigestPolicy.AsRequested,
        "REFUSE" or "OFF" => NvmeDigestPolicy.Refuse,
        _ => throw new FormatException($"Digest policy '{text}' is neither as-requested nor refuse."),
    };
}
