// MoaDetect.java: MOA's change detectors over a series of numbers (one a
// line, e.g. a learner's 0/1 errors), for `make compare` and the parity
// test. The detector is a MOA command-line string relative to
// moa.classifiers.core.driftdetection (ADWINChangeDetector, DDM, EDDM,
// PageHinkleyDM, HDDM_A_Test, HDDM_W_Test, ... with their options).
//
//   java -cp moa.jar:DIR MoaDetect 'DDM -n 30' FILE
//
// Prints each warning (when the warning zone is entered) and each drift as
// {"index":I,"kind":"warning"|"drift"} with I the 0-based index of the
// value after which MOA signalled it, then one summary line:
//   {"tool":"moa","detector":...,"values":N,"first_drift":I|null,
//    "drifts":D,"warnings":W,"seconds":S}
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import moa.classifiers.core.driftdetection.ChangeDetector;
import moa.options.ClassOption;

public class MoaDetect {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: MoaDetect 'MOA change detector CLI' FILE");
      System.exit(2);
    }
    String cli = args[0];
    String name = cli.contains(".") ? cli : "moa.classifiers.core.driftdetection." + cli;
    ChangeDetector d = (ChangeDetector) ClassOption.cliStringToObject(name, ChangeDetector.class, null);
    d.prepareForUse();
    PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));
    long t0 = System.nanoTime();
    long n = 0, first = -1, drifts = 0, warnings = 0;
    boolean inWarning = false;
    try (BufferedReader in = new BufferedReader(new FileReader(args[1]))) {
      String line;
      while ((line = in.readLine()) != null) {
        line = line.trim();
        if (line.isEmpty()) continue;
        d.input(Double.parseDouble(line));
        if (d.getChange()) {
          out.println("{\"index\":" + n + ",\"kind\":\"drift\"}");
          if (first < 0) first = n;
          drifts++;
          inWarning = false;
        } else if (d.getWarningZone()) {
          if (!inWarning) {
            out.println("{\"index\":" + n + ",\"kind\":\"warning\"}");
            warnings++;
          }
          inWarning = true;
        } else {
          inWarning = false;
        }
        n++;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    out.println("{\"tool\":\"moa\",\"detector\":\"" + cli.replace("\"", "\\\"") + "\",\"values\":" + n
        + ",\"first_drift\":" + (first < 0 ? "null" : Long.toString(first)) + ",\"drifts\":" + drifts
        + ",\"warnings\":" + warnings + ",\"seconds\":" + seconds + "}");
    out.flush();
  }
}
