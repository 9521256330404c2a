using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>
/// Editions' original bytes in PostgreSQL: the file's chunk list on its editions row, each chunk once in
/// original_chunks. Editions received before chunks were kept have their bytes in editions.content instead.
/// </summary>
internal static class OriginalFiles
{
    public const int HashLength = 32;

    /// <summary>Stores the chunks not stored yet, inside the caller's transaction; returns the chunk list for the editions row.</summary>
    public static async Task<byte[]> StoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken)
    {
        var cuts = ContentChunks.Cuts(content.Span);
        var list = new byte[cuts.Count * HashLength];
        var chunks = new List<(byte[] Hash, int Start, int Length)>(cuts.Count);
        var start = 0;
        for (var i = 0; i < cuts.Count; i++)
        {
            var hash = SHA256.HashData(content.Span[start..cuts[i]]);
            hash.CopyTo(list, i * HashLength);
            chunks.Add((hash, start, cuts[i] - start));
            start = cuts[i];
        }

        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var known = new NpgsqlCommand("SELECT hash FROM original_chunks WHERE hash = ANY(@hashes)", connection, transaction))
        {
            known.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = chunks.Select(c => c.Hash).ToArray() });
            await using var reader = await known.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) stored.Add(Convert.ToHexString(reader.GetFieldValue<byte[]>(0)));
        }

        var missing = chunks.Where(c => stored.Add(Convert.ToHexString(c.Hash))).ToList();
        if (missing.Count > 0)
        {
            var compressed = new byte[missing.Count][];
            Parallel.For(0, missing.Count, i => compressed[i] = ContentChunks.Compress(content.Span.Slice(missing[i].Start, missing[i].Length)));
            await using var insert = new NpgsqlCommand("""
                INSERT INTO original_chunks (hash, length, compressed)
                SELECT * FROM unnest(@hashes, @lengths, @compressed) ON CONFLICT (hash) DO NOTHING
                """, connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = missing.Select(c => c.Hash).ToArray() });
            insert.Parameters.AddWithValue("lengths", missing.Select(c => c.Length).ToArray());
            insert.Parameters.Add(new NpgsqlParameter("compressed", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = compressed });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return list;
    }

    /// <summary>An edition's original, checked against the SHA-256 it was received with.</summary>
    /// <exception cref="OriginalUnreadableException">Unknown edition, a chunk missing or damaged, or bytes that do not match the hash.</exception>
    public static async Task<byte[]> ReadAsync(NpgsqlConnection connection, string id, CancellationToken cancellationToken)
    {
        string sha256;
        byte[]? content, list;
        await using (var command = new NpgsqlCommand("SELECT sha256, content, chunks FROM editions WHERE id = @id", connection))
        {
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) throw new OriginalUnreadableException(id, "no such edition");
            sha256 = reader.GetString(0);
            content = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
            list = reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2);
        }

        content ??= list is null ? throw new OriginalUnreadableException(id, "no bytes stored") : await AssembleAsync(connection, id, list, cancellationToken);
        if (Convert.ToHexStringLower(SHA256.HashData(content)) != sha256) throw new OriginalUnreadableException(id, $"the stored bytes no longer have its sha256 {sha256}");
        return content;
    }

    private static async Task<byte[]> AssembleAsync(NpgsqlConnection connection, string id, byte[] list, CancellationToken cancellationToken)
    {
        var hashes = Enumerable.Range(0, list.Length / HashLength).Select(i => list.AsSpan(i * HashLength, HashLength).ToArray()).ToArray();
        var chunks = new Dictionary<string, (int Length, byte[] Compressed)>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT hash, length, compressed FROM original_chunks WHERE hash = ANY(@hashes)", connection))
        {
            command.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = hashes.Distinct(ByteArrays.Instance).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                chunks[Convert.ToHexString(reader.GetFieldValue<byte[]>(0))] = (reader.GetInt32(1), reader.GetFieldValue<byte[]>(2));
            }
        }

        var total = 0L;
        foreach (var hash in hashes)
        {
            if (!chunks.TryGetValue(Convert.ToHexString(hash), out var chunk)) throw new OriginalUnreadableException(id, $"chunk {Convert.ToHexStringLower(hash)} is missing");
            total += chunk.Length;
        }

        var content = new byte[total];
        var at = 0;
        foreach (var hash in hashes)
        {
            var (length, compressed) = chunks[Convert.ToHexString(hash)];
            var target = content.AsSpan(at, length);
            if (!ContentChunks.TryDecompress(compressed, target) || !SHA256.HashData(target).AsSpan().SequenceEqual(hash))
            {
                throw new OriginalUnreadableException(id, $"chunk {Convert.ToHexStringLower(hash)} is damaged");
            }

            at += length;
        }

        return content;
    }

    private sealed class ByteArrays : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrays Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes) => BitConverter.ToInt32(bytes, 0);
    }
}
