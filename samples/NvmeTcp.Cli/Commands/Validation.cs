using System.CommandLine;
using System.CommandLine.Parsing;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// Checks of option values that System.CommandLine runs while it parses, so bad input is a parse error (exit 1)
/// before anything connects. A check returns an error message, or null when the values are fine.
/// </summary>
internal static class Validation
{
    /// <summary>Adds a check of <paramref name="option"/>'s value (given or default).</summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, string?> check)
    {
        option.Validators.Add(result => Run(result, values => check(values.Get(option))));
        return option;
    }

    /// <summary>Adds a check of several of <paramref name="command"/>'s options together.</summary>
    public static void Check(this Command command, Func<OptionValues, string?> check) =>
        command.Validators.Add(result => Run(result, check));

    private static void Run(SymbolResult result, Func<OptionValues, string?> check)
    {
        string? error;
        try
        {
            error = check(new OptionValues(result));
        }
        catch (OptionValues.UnusableValueException)
        {
            // A value the check needs did not parse, or a required option is missing: that has its own error.
            return;
        }

        if (error is not null)
        {
            result.AddError(error);
        }
    }
}

/// <summary>
/// Option values read while the command line is still being parsed: a command's validators run before System.CommandLine
/// adds the default values, and an option's before its value is converted. A missing option gives its default here;
/// a value that does not convert, or a required option that is missing, throws <see cref="UnusableValueException"/>
/// (once the parse has succeeded, <see cref="Get"/> never throws).
/// </summary>
internal sealed class OptionValues(SymbolResult scope)
{
    /// <summary>Whether the command line gives <paramref name="option"/> (not its default).</summary>
    public bool Given(Option option) => scope.GetResult(option) is { Implicit: false };

    public T Get<T>(Option<T> option)
    {
        if (scope.GetResult(option) is not { } result)
        {
            if (option.HasDefaultValue)
            {
                return (T)option.GetDefaultValue()!;
            }

            return option.Required ? throw new UnusableValueException() : scope.GetValue(option)!;
        }

        try
        {
            return result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException e)
        {
            // System.CommandLine throws this for a value that did not convert, after recording the parse error.
            throw new UnusableValueException(e);
        }
    }

    /// <summary>A value a check needs is not there; the parse reports why.</summary>
    internal sealed class UnusableValueException : Exception
    {
        public UnusableValueException()
        {
        }

        public UnusableValueException(Exception innerException)
            : base(null, innerException)
        {
        }
    }
}
