// Names that two namespaces both define, given one meaning for the whole project.
global using Date = Google.Type.Date;
global using ObservationsService = PortHistory.Contracts.V1.Observations;
global using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
