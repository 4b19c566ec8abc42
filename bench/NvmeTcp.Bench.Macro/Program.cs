using System.Globalization;
using NvmeTcp.Bench.Macro;

// nvmetcp-bench: the macro harness. With no arguments (or "run") it measures, in one run, this machine's loopback limits
// and our client against an out-of-process `nvmetcp serve`, and prints each client figure as a ratio to its limit.
// The "loopback-server" and "loopback-client" roles are the limit programs it starts as child processes, "spin" the
// noisy neighbour it starts with --neighbour or --compare-neighbour.
var verb = args.Length > 0 ? args[0] : "run";
try
{
    return verb switch
    {
        "loopback-server" => await Loopback.ServeAsync(Buffers(args, 1)),
        "loopback-client" => await Loopback.RunClientAsync(
            int.Parse(args[1], CultureInfo.InvariantCulture), args[2], double.Parse(args[3], CultureInfo.InvariantCulture), Buffers(args, 4)),
        "spin" => Neighbour.Spin(double.Parse(args[1], CultureInfo.InvariantCulture)),
        "run" => await Harness.RunAsync(HarnessSettings.Parse(args.Skip(1).ToArray())),
        "-h" or "--help" => Usage(),
        _ => Usage(),
    };
}
catch (HarnessException e)
{
    Console.Error.WriteLine($"nvmetcp-bench: {e.Message}");
    return 1;
}

// A role's optional "--buffers BYTES" at args[at].
static int? Buffers(string[] args, int at) =>
    args.Length > at + 1 && args[at] == "--buffers" ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : null;

static int Usage()
{
    Console.WriteLine("""
        usage: nvmetcp-bench [run] [--time SECONDS] [--warmup SECONDS] [--repeat N] [--smoke] [--markdown FILE]
                             [--neighbour | --compare-neighbour]

          --time      seconds per measurement (default 10)
          --warmup    seconds run before each client measurement and not counted (default 2)
          --repeat    runs of each limit and each client figure; the best is kept (default 3)
          --smoke     a short run that checks every step works (0.5 s each, 1 repeat); its figures mean nothing
          --markdown  also write the result table to FILE
          --neighbour one CPU-bound process (a busy loop of this program) runs beside the whole run
          --compare-neighbour
                      the client rows idle, then again beside that process; prints loaded/idle per row (goal >= 0.75)
        """);
    return 1;
}
