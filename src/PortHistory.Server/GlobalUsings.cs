// Names that two namespaces both define, given one meaning for the whole project.
global using Any = Google.Protobuf.WellKnownTypes.Any;
global using Status = Grpc.Core.Status;
