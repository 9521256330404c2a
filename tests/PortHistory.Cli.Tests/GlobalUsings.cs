// Names that two namespaces both define, given one meaning for the whole project.
global using Status = Grpc.Core.Status;
