using Grpc.Core;

namespace PortHistory.Agent.Tests;

/// <summary>
/// A stand-in for a server that answers unary calls only (all the agent makes): a subclass gives the answer, or throws
/// an <see cref="RpcException"/> for the call to fail with.
/// </summary>
public abstract class UnaryCallInvoker : CallInvoker
{
    protected abstract object Answer(IMethod method, object request, CallOptions options);

    public sealed override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        Task<TResponse> response;
        try
        {
            response = Task.FromResult((TResponse)Answer(method, request, options));
        }
        catch (RpcException e)
        {
            response = Task.FromException<TResponse>(e);
        }

        return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    public sealed override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException();

    public sealed override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

    public sealed override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

    public sealed override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
}
