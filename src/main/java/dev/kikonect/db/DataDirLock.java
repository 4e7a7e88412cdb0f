package dev.kikonect.db;

import dev.kikonect.common.StartupProblem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * KiKonect's own lock on its data directory ({@code kikonect.lock}, an OS file lock the kernel releases when the
 * process dies, however it dies), taken before anything touches the embedded PostgreSQL there: a second start on a
 * directory in use stops at once with who holds it, instead of shutting down the first one's database as an orphan.
 * The file says the holder's pid and its PostgreSQL's port.
 */
final class DataDirLock implements AutoCloseable {

    /** The directory is in use by another KiKonect (or this process already). */
    static final class InUse extends StartupProblem {
        InUse(String message) {
            super(message, "Stop the running KiKonect, or give this one its own --kikonect.data-dir.");
        }
    }

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static DataDirLock take(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("kikonect.lock");
        FileChannel channel =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process (another application context)
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
            channel.close();
            throw new InUse("The data directory " + dir + " is in use by KiKonect "
                    + (holder.isEmpty() ? "(another process)" : holder) + ".");
        }
        DataDirLock taken = new DataDirLock(channel, lock);
        taken.describe("pid " + ProcessHandle.current().pid());
        return taken;
    }

    /** Writes who holds the lock, for the message another start prints. */
    void describe(String holder) throws IOException {
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
