using AuthFunctions.Hosting;

await AuthFunctionsApp.Build(args).RunAsync();
