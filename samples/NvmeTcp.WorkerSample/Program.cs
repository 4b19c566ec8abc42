using NvmeTcp.Client.Hosting;
using NvmeTcp.WorkerSample;

// A worker service that keeps one NVMe/TCP volume connected (appsettings.json: NvmeTcp:Controllers:primary) and
// writes a heartbeat record to it every few seconds. Start a target first, e.g. `nvmetcp serve --listen 127.0.0.1:4420`.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddNvmeTcp(builder.Configuration.GetSection("NvmeTcp"));
builder.Services.AddHostedService<HeartbeatWorker>();
await builder.Build().RunAsync();
