using PortHistory.Server.Hosting;
using PortHistory.ServiceDefaults;

// Content root at the binaries, so appsettings.json is found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddServiceDefaults();
builder.AddPortHistoryMetrics();
builder.AddPortHistoryOptions();
builder.AddPortHistoryDatabase();
builder.AddPortHistorySilo();
builder.AddRegistryServices();
builder.AddRegistryFollowing();
builder.AddSightingServices();
builder.AddHostServices();
builder.AddWatchServices();
builder.AddExpectationServices();
builder.AddAccessControl();
builder.AddGrpcGateway();
builder.AddConnectionLimits();

var app = builder.Build();
// The scrape port first: nothing after it (the gateway's token check included) sees its requests.
app.MapMetricsEndpoint();
app.MapPortHistoryApis();
app.MapWebPage();
app.Run();
