// Names that two namespaces both define, given one meaning for the whole project.
global using StoredPortRegistry = PortHistory.Contracts.V1.StoredPortRegistry;
