// Names that two namespaces both define, given one meaning for the whole project.
global using ObservationsService = PortHistory.Contracts.V1.Observations;
