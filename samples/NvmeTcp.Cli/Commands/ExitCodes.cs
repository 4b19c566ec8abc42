using NvmeTcp.Protocol;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The process exit codes of <c>nvmetcp</c>, one per category of failure, so scripts can tell a down target from a
/// refused command. They are listed in <c>nvmetcp --help</c> and in the README.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>Bad command line or input: unknown option, missing value, a namespace the controller lacks, an unreadable file.</summary>
    public const int Usage = 1;

    /// <summary>The target could not be reached, or the TCP connection was lost (NvmeTransportException).</summary>
    public const int Transport = 2;

    /// <summary>The controller completed a command with a non-zero NVMe status (NvmeStatusException).</summary>
    public const int NvmeStatus = 3;

    /// <summary>A peer broke the NVMe/TCP protocol: bad PDU, digest error, C2HTermReq (NvmeTcpProtocolException).</summary>
    public const int ProtocolViolation = 4;

    /// <summary>A command or connection step took longer than its timeout (NvmeTimeoutException).</summary>
    public const int Timeout = 5;

    /// <summary>Data read back differs from what was written (the demo's verify step, perf --verify).</summary>
    public const int DataMismatch = 6;

    /// <summary>
    /// The controller demands in-band authentication this host cannot give, or refused it (NvmeAuthenticationException);
    /// or the TLS session could not be set up, or TLS is required and not configured (NvmeTlsException).
    /// </summary>
    public const int Authentication = 7;

    /// <summary>The controller reported a fatal status, CSTS.CFS (NvmeControllerFatalException).</summary>
    public const int ControllerFatal = 8;

    /// <summary>An unexpected error: a bug in nvmetcp or the library (run again with --verbose and report it).</summary>
    public const int InternalError = 70;

    /// <summary>Cancelled by Ctrl+C (SIGINT) after an orderly shutdown.</summary>
    public const int Cancelled = 130;

    /// <summary>The table printed at the end of <c>nvmetcp --help</c>.</summary>
    public const string HelpText = """
        Exit codes:
          0    success
          1    usage error or bad input (unknown option, missing namespace, unreadable file)
          2    target unreachable or connection lost (transport)
          3    the controller returned an NVMe error status (its name is printed)
          4    NVMe/TCP protocol violation (bad PDU, digest error, C2HTermReq)
          5    timeout
          6    data read back differs from data written (demo verify, perf --verify)
          7    authentication required or refused (DH-HMAC-CHAP)
          8    the controller reported a fatal status (CSTS.CFS)
          70   internal error (run with --verbose and report it)
          130  cancelled with Ctrl+C
        """;
}
