// Names that two namespaces both define, given one meaning for the whole project.
global using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
