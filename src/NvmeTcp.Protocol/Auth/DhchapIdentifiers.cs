namespace NvmeTcp.Protocol.Auth;

/// <summary>
/// DH-HMAC-CHAP hash function identifiers (NVMe Base 2.0 "DH-HMAC-CHAP protocol", HashID; Linux
/// <c>NVME_AUTH_HASH_*</c>). The same numbers name the key transformation hash (<c>hh</c>) of a DHHC-1 secret.
/// </summary>
public enum DhchapHashFunction : byte
{
    /// <summary>HMAC-SHA-256, 32-byte values.</summary>
    Sha256 = 0x01,

    /// <summary>HMAC-SHA-384, 48-byte values.</summary>
    Sha384 = 0x02,

    /// <summary>HMAC-SHA-512, 64-byte values.</summary>
    Sha512 = 0x03,
}

/// <summary>
/// DH-HMAC-CHAP Diffie-Hellman group identifiers (NVMe Base 2.0, DHGID; RFC 7919 groups; Linux
/// <c>NVME_AUTH_DHGROUP_*</c>).
/// </summary>
public enum DhchapDhGroup : byte
{
    /// <summary>No Diffie-Hellman exchange: the challenge is not augmented.</summary>
    Null = 0x00,

    /// <summary>RFC 7919 ffdhe2048.</summary>
    Ffdhe2048 = 0x01,

    /// <summary>RFC 7919 ffdhe3072.</summary>
    Ffdhe3072 = 0x02,

    /// <summary>RFC 7919 ffdhe4096.</summary>
    Ffdhe4096 = 0x03,

    /// <summary>RFC 7919 ffdhe6144.</summary>
    Ffdhe6144 = 0x04,

    /// <summary>RFC 7919 ffdhe8192.</summary>
    Ffdhe8192 = 0x05,
}

/// <summary>
/// SC_C of AUTH_Negotiate, the secure channel concatenation the host asks for (NVMe Base 2.1 "AUTH_Negotiate message";
/// Linux <c>NVME_AUTH_SECP_*</c>). The same byte enters the host's response hash (R1) as SC.
/// </summary>
public enum AuthSecureChannel : byte
{
    /// <summary>NOSC: no secure channel concatenation.</summary>
    None = 0x00,

    /// <summary>SC: a secure channel without a TLS PSK (reserved for other transports; Linux never sends it).</summary>
    SecureChannel = 0x01,

    /// <summary>NEWTLSPSK: generate a TLS PSK from this exchange, on a queue not yet inside TLS.</summary>
    NewTlsPsk = 0x02,

    /// <summary>REPLACETLSPSK: generate a TLS PSK replacing the one the queue already runs TLS with.</summary>
    ReplaceTlsPsk = 0x03,
}

/// <summary>
/// AUTH_Failure reason code explanations (NVMe Base 2.0 "AUTH_Failure1/AUTH_Failure2 message", RCE; Linux
/// <c>NVME_AUTH_DHCHAP_FAILURE_*</c>). The reason code itself is always 01h, "authentication failure".
/// </summary>
public enum AuthFailureReason : byte
{
    /// <summary>No explanation (not sent by a conforming peer).</summary>
    None = 0x00,

    /// <summary>Authentication failed: the response did not match.</summary>
    Failed = 0x01,

    /// <summary>Authentication protocol not usable.</summary>
    ProtocolUnusable = 0x02,

    /// <summary>Secure channel concatenation mismatch.</summary>
    ConcatenationMismatch = 0x03,

    /// <summary>Hash function not usable.</summary>
    HashUnusable = 0x04,

    /// <summary>Diffie-Hellman group not usable.</summary>
    DhGroupUnusable = 0x05,

    /// <summary>Incorrect payload.</summary>
    IncorrectPayload = 0x06,

    /// <summary>Incorrect protocol message.</summary>
    IncorrectMessage = 0x07,
}

/// <summary>Names and sizes of the DH-HMAC-CHAP identifiers.</summary>
public static class DhchapIdentifiers
{
    /// <summary>The hash's output length in bytes (HL), or 0 for an identifier this library does not know.</summary>
    public static int HashLength(DhchapHashFunction hash) => hash switch
    {
        DhchapHashFunction.Sha256 => 32,
        DhchapHashFunction.Sha384 => 48,
        DhchapHashFunction.Sha512 => 64,
        _ => 0,
    };

    /// <summary>Whether <paramref name="hash"/> is one of the three defined hash functions.</summary>
    public static bool IsKnown(DhchapHashFunction hash) => HashLength(hash) != 0;

    /// <summary>Whether <paramref name="group"/> is NULL or one of the five RFC 7919 groups.</summary>
    public static bool IsKnown(DhchapDhGroup group) => group <= DhchapDhGroup.Ffdhe8192;

    /// <summary>The group's DH value length in bytes (the prime's size), 0 for NULL or an unknown group.</summary>
    public static int DhValueLength(DhchapDhGroup group) => group switch
    {
        DhchapDhGroup.Ffdhe2048 => 256,
        DhchapDhGroup.Ffdhe3072 => 384,
        DhchapDhGroup.Ffdhe4096 => 512,
        DhchapDhGroup.Ffdhe6144 => 768,
        DhchapDhGroup.Ffdhe8192 => 1024,
        _ => 0,
    };

    /// <summary>The name Linux configfs and nvme-cli use: <c>hmac(sha256)</c>, <c>hmac(sha384)</c>, <c>hmac(sha512)</c>.</summary>
    public static string Name(DhchapHashFunction hash) => hash switch
    {
        DhchapHashFunction.Sha256 => "hmac(sha256)",
        DhchapHashFunction.Sha384 => "hmac(sha384)",
        DhchapHashFunction.Sha512 => "hmac(sha512)",
        _ => $"unknown hash 0x{(byte)hash:X2}",
    };

    /// <summary>The name Linux configfs uses: <c>null</c>, <c>ffdhe2048</c> ... <c>ffdhe8192</c>.</summary>
    public static string Name(DhchapDhGroup group) => group switch
    {
        DhchapDhGroup.Null => "null",
        DhchapDhGroup.Ffdhe2048 => "ffdhe2048",
        DhchapDhGroup.Ffdhe3072 => "ffdhe3072",
        DhchapDhGroup.Ffdhe4096 => "ffdhe4096",
        DhchapDhGroup.Ffdhe6144 => "ffdhe6144",
        DhchapDhGroup.Ffdhe8192 => "ffdhe8192",
        _ => $"unknown group 0x{(byte)group:X2}",
    };

    /// <summary>A short description of a failure reason code explanation.</summary>
    public static string Describe(AuthFailureReason reason) => reason switch
    {
        AuthFailureReason.Failed => "authentication failed",
        AuthFailureReason.ProtocolUnusable => "authentication protocol not usable",
        AuthFailureReason.ConcatenationMismatch => "secure channel concatenation mismatch",
        AuthFailureReason.HashUnusable => "hash function not usable",
        AuthFailureReason.DhGroupUnusable => "DH group not usable",
        AuthFailureReason.IncorrectPayload => "incorrect payload",
        AuthFailureReason.IncorrectMessage => "incorrect protocol message",
        _ => $"reason 0x{(byte)reason:X2}",
    };
}
