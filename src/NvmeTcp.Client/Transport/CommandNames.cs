using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Transport;

/// <summary>Human names of commands, for error messages and logs: the spec's names, from <see cref="CommandName"/>.</summary>
internal static class CommandNames
{
    /// <summary>The spec's name of a command.</summary>
    public static string Of(CommandKind kind, byte opcode) => CommandName.Of(kind, opcode);

    /// <summary>The name of a fabrics command by FCTYPE.</summary>
    public static string OfFabrics(byte fctype) => CommandName.OfFabrics(fctype);
}
