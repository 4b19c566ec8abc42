namespace NvmeTcp.Cli.Commands;

/// <summary>A failure the CLI itself detects (bad input, a missing namespace); carries its exit code.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : this(ExitCodes.Usage, message)
    {
    }

    public CliException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Usage;
    }

    public CliException(int exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; } = ExitCodes.Usage;
}
