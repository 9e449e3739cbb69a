// MoaPrequential.java: MOA's side of `make compare` and of the parity test.
// Runs one MOA classifier, given as a MOA command-line string (the same
// text as in MOA's GUI or EvaluatePrequential -l), prequentially over an
// ARFF file through MOA's Java API: each instance is predicted (MOA's
// Utils.maxIndex of the votes, first on ties, as EvaluatePrequential's
// BasicClassificationPerformanceEvaluator does), then learned.
//
//   java -cp moa.jar:DIR MoaPrequential FILE.arff 'trees.HoeffdingTree -g 200' \
//       [--max N] [--every N [--window W] [--adwin]] [--predictions OUT] [--seed S]
//
// Output, one JSON object a line, the last one always:
//   {"tool":"moa","learner":...,"instances":N,"accuracy":A,"seconds":S,
//    "instances_per_second":R,"jvm_seconds":J}
// "seconds" runs from opening the file (MOA parses the ARFF header and every
// row itself) to the last instance learned: file parsing is included, the
// JVM's start (and the class loading before main) is not; it is reported
// apart as "jvm_seconds" (from the JVM's start time to the file's opening).
// "cpu_seconds" is the CPU time of the thread that parses, predicts and
// learns over the same span (the JIT compiler's and the collector's threads
// are not in it): a figure less moved by other processes on the machine.
// --every N adds a line every N instances with the accuracy of the last W
// predictions (default 1000) as "window_accuracy"; --adwin also runs MOA's
// ADWINChangeDetector on the 0/1 error stream and prints each drift it
// signals as {"alert":{"index":I,"kind":"drift","detector":"adwin"}} (I the
// 0-based index of the instance). --predictions writes one line per
// instance: the predicted class index, then MOA's raw votes (for row-by-row
// checks, tests/reference/moa_prequential.sh). --seed S sets the
// classifier's random seed (Classifier.setRandomSeed; MOA's default is 1),
// for ensembles whose CLI has no -r. --regression: a regressor on a numeric
// class, as EvaluatePrequentialRegression's BasicRegressionPerformance
// Evaluator measures it (the prediction is votes[0], 0 when there is none;
// MAE and RMSE weighted by the instances' weights): the last line has "mae"
// and "rmse" instead of "accuracy", --predictions writes the prediction
// (Java's Double.toString), and --every/--adwin are not available.
import com.yahoo.labs.samoa.instances.Instance;
import java.io.BufferedWriter;
import java.io.FileWriter;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import moa.classifiers.Classifier;
import moa.classifiers.core.driftdetection.ADWINChangeDetector;
import moa.options.ClassOption;
import moa.streams.ArffFileStream;

public class MoaPrequential {
  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\');
      b.append(c);
    }
    return b.append('"').toString();
  }

  static void usage() {
    System.err.println(
        "usage: MoaPrequential FILE.arff 'MOA classifier CLI' [--max N] [--every N [--window W]"
            + " [--adwin]] [--predictions OUT] [--seed S] [--regression]");
    System.exit(2);
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) usage();
    String arff = args[0], cli = args[1], predictions = null;
    long max = 0, every = 0;
    int window = 1000;
    boolean adwin = false, regression = false;
    Integer seed = null;
    for (int i = 2; i < args.length; i++) {
      switch (args[i]) {
        case "--max": max = Long.parseLong(args[++i]); break;
        case "--every": every = Long.parseLong(args[++i]); break;
        case "--window": window = Integer.parseInt(args[++i]); break;
        case "--adwin": adwin = true; break;
        case "--predictions": predictions = args[++i]; break;
        case "--seed": seed = Integer.parseInt(args[++i]); break;
        case "--regression": regression = true; break;
        default: usage();
      }
    }
    Classifier learner = (Classifier) ClassOption.cliStringToObject(cli, Classifier.class, null);
    if (seed != null) learner.setRandomSeed(seed);
    ADWINChangeDetector detector = null;
    if (adwin) {
      detector = new ADWINChangeDetector();
      detector.prepareForUse();
    }
    PrintWriter out = new PrintWriter(new BufferedWriter(new java.io.OutputStreamWriter(System.out)));
    PrintWriter pred =
        predictions == null ? null : new PrintWriter(new BufferedWriter(new FileWriter(predictions)));
    boolean[] ring = new boolean[window];
    long windowCorrect = 0;

    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long c0 = threads.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    double jvm = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    ArffFileStream stream = new ArffFileStream(arff, -1);
    stream.prepareForUse();
    learner.setModelContext(stream.getHeader());
    learner.prepareForUse();
    long n = 0, correct = 0;
    if (regression) {
      if (every > 0) usage();
      double w = 0, abs = 0, sq = 0;
      while (stream.hasMoreInstances() && (max == 0 || n < max)) {
        Instance inst = stream.nextInstance().getData();
        double[] votes = learner.getVotesForInstance(inst);
        double p = votes.length > 0 ? votes[0] : 0.0, e = inst.classValue() - p;
        w += inst.weight();
        abs += inst.weight() * Math.abs(e);
        sq += inst.weight() * e * e;
        if (pred != null) pred.println(p);
        learner.trainOnInstance(inst);
        n++;
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (pred != null) pred.close();
      out.println("{\"tool\":\"moa\",\"learner\":" + quote(cli) + ",\"instances\":" + n
          + ",\"mae\":" + (w > 0 ? abs / w : 0.0) + ",\"rmse\":" + (w > 0 ? Math.sqrt(sq / w) : 0.0)
          + ",\"seconds\":" + seconds + ",\"instances_per_second\":" + (seconds > 0 ? n / seconds : 0.0)
          + ",\"jvm_seconds\":" + jvm / 1e3 + "}");
      out.flush();
      return;
    }
    while (stream.hasMoreInstances() && (max == 0 || n < max)) {
      Instance inst = stream.nextInstance().getData();
      double[] votes = learner.getVotesForInstance(inst);
      int best = 0;
      for (int i = 1; i < votes.length; i++) if (votes[i] > votes[best]) best = i;
      boolean ok = best == (int) inst.classValue();
      if (ok) correct++;
      if (pred != null) {
        StringBuilder line = new StringBuilder().append(best);
        for (double v : votes) line.append(' ').append(v);
        pred.println(line);
      }
      learner.trainOnInstance(inst);
      if (every > 0) {
        int slot = (int) (n % window);
        if (n >= window && ring[slot]) windowCorrect--;
        ring[slot] = ok;
        if (ok) windowCorrect++;
        if (detector != null) {
          detector.input(ok ? 0.0 : 1.0);
          if (detector.getChange())
            out.println("{\"alert\":{\"index\":" + n + ",\"kind\":\"drift\",\"detector\":\"adwin\"}}");
        }
      }
      n++;
      if (every > 0 && n % every == 0)
        out.println("{\"instances\":" + n + ",\"accuracy\":" + (double) correct / n
            + ",\"window_accuracy\":" + (double) windowCorrect / Math.min(n, window) + "}");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpu = (threads.getCurrentThreadCpuTime() - c0) / 1e9;
    if (pred != null) pred.close();
    out.println("{\"tool\":\"moa\",\"learner\":" + quote(cli) + ",\"instances\":" + n
        + ",\"accuracy\":" + (n > 0 ? (double) correct / n : 0.0) + ",\"seconds\":" + seconds
        + ",\"instances_per_second\":" + (seconds > 0 ? n / seconds : 0.0)
        + ",\"jvm_seconds\":" + jvm / 1e3 + ",\"cpu_seconds\":" + cpu + "}");
    out.flush();
  }
}
