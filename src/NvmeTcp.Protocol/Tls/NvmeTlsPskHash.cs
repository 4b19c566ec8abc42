namespace NvmeTcp.Protocol.Tls;

/// <summary>
/// The <c>hh</c> of a PSK interchange key and of a PSK identity (NVMe/TCP Transport "PSK interchange format"):
/// the hash that turns a configured PSK into a retained one, and the hash of the TLS cipher suite.
/// </summary>
public enum NvmeTlsPskHash : byte
{
    /// <summary>00: the configured PSK is used as the retained PSK (interchange keys only).</summary>
    None = 0,

    /// <summary>01: SHA-256, cipher suite TLS_AES_128_GCM_SHA256, 32-byte keys.</summary>
    Sha256 = 1,

    /// <summary>02: SHA-384, cipher suite TLS_AES_256_GCM_SHA384, 48-byte keys.</summary>
    Sha384 = 2,
}
