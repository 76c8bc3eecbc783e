;;; planfile.el --- A real Emacs + eglot session on a plan file, in batch mode -*- lexical-binding: t -*-

;; Run by tests/emacs.rs:
;;   CODELAB_BIN=... CODELAB_WORKSPACE=... emacs --batch -Q -l tests/emacs/planfile.el
;; The workspace holds `check.plan.toml' with an unknown dependency.  The session, configured as
;; docs/editors.md says: open it, wait for the Flymake diagnostic eglot shows, fix the text and
;; wait for it to clear, run the plan through a code action (the way `M-x eglot-code-actions'
;; does), wait for the run to complete (`codelab-planner.status'), then show the hover.
;; Prints one `STEP ...' line per step; exits 0 on success, 1 with `FAIL ...' otherwise.

;; `-Q' skips site start-up: make the packages Debian installs (elpa-eglot) visible.
(require 'package)
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(require 'eglot)
(require 'flymake)

(defvar planfile-test-timeout 20 "Seconds each wait may take.")

(defun planfile-test-fail (format-string &rest arguments)
  (princ (concat "FAIL " (apply #'format format-string arguments) "\n"))
  (princ (format "flymake-mode %S backends %S report-fn %S diagnostics %S running %S\n"
                 (bound-and-true-p flymake-mode) flymake-diagnostic-functions
                 (bound-and-true-p eglot--current-flymake-report-fn) (bound-and-true-p eglot--diagnostics)
                 (ignore-errors (flymake-running-backends))))
  (let ((server (ignore-errors (eglot-current-server))))
    (when server
      (with-current-buffer (jsonrpc-events-buffer server)
        (princ (format "--- eglot events (tail) ---\n%s\n"
                       (buffer-substring-no-properties (max (point-min) (- (point-max) 6000)) (point-max)))))))
  (kill-emacs 1))

(defun planfile-test-step (format-string &rest arguments)
  (princ (concat "STEP " (apply #'format format-string arguments) "\n")))

(defun planfile-test-idle ()
  "Finish a command and pause, as a person in an interactive Emacs does.
Batch Emacs runs no command loop: Flymake starts checking after a command (`post-command-hook')
and eglot sends changes from an idle timer, so both are run here."
  (run-hooks 'post-command-hook)
  (dolist (timer (copy-sequence timer-idle-list))
    (timer-event-handler timer)))

(defun planfile-test-wait (what predicate)
  "Wait (processing server messages and timers) until PREDICATE returns non-nil."
  (let ((deadline (+ (float-time) planfile-test-timeout)) (value nil))
    (while (not (setq value (funcall predicate)))
      (when (> (float-time) deadline)
        (planfile-test-fail "timed out waiting for %s" what))
      (accept-process-output nil 0.05)
      (planfile-test-idle))
    value))

(define-derived-mode plan-toml-mode conf-toml-mode "Plan"
  "Major mode for codelab-planner plan files.")
(add-to-list 'auto-mode-alist '("\\.plan\\.toml\\'" . plan-toml-mode))
(add-to-list 'eglot-server-programs `(plan-toml-mode . (,(getenv "CODELAB_BIN") "--stdio")))
(setq eglot-send-changes-idle-time 0.1)

(let* ((workspace (file-name-as-directory (getenv "CODELAB_WORKSPACE")))
       (file (expand-file-name "check.plan.toml" workspace)))
  (add-hook 'project-find-functions (lambda (_dir) (cons 'transient workspace)))
  (condition-case failure
      (with-current-buffer (switch-to-buffer (find-file-noselect file))
        (unless (eq major-mode 'plan-toml-mode) (planfile-test-fail "mode is %s" major-mode))
        (apply #'eglot--connect (eglot--guess-contact))
        (planfile-test-wait "eglot to manage the buffer" (lambda () eglot--managed-mode))
        (planfile-test-step "connected to %s" (plist-get (eglot--server-info (eglot-current-server)) :name))

        ;; 1. The diagnostic, as Flymake shows it.
        (let ((diagnostic (planfile-test-wait "a diagnostic" (lambda () (car (flymake-diagnostics))))))
          (planfile-test-step "diagnostic at line %d: %s"
                              (line-number-at-pos (flymake-diagnostic-beg diagnostic))
                              (flymake-diagnostic-text diagnostic))
          (unless (string-match-p "unknown subtask \"ghost\"" (flymake-diagnostic-text diagnostic))
            (planfile-test-fail "unexpected diagnostic %S" (flymake-diagnostic-text diagnostic))))

        ;; 2. Fix the text; eglot sends an incremental didChange; the diagnostic goes away.
        (goto-char (point-min))
        (search-forward "\"ghost\"")
        (replace-match "\"hello\"")
        (planfile-test-wait "the diagnostics to clear" (lambda () (null (flymake-diagnostics))))
        (planfile-test-step "diagnostics cleared after the edit")

        ;; 3. Run the plan through a code action, as `eglot-code-actions' executes a pick.
        (goto-char (point-min))
        (let* ((server (eglot-current-server))
               (actions (eglot-code-actions (point) (point)))
               (run (seq-find (lambda (action) (equal (plist-get action :title) "Run plan")) actions))
               (command (plist-get run :command)))
          (planfile-test-step "code actions: %s" (mapconcat (lambda (a) (plist-get a :title)) actions ", "))
          (unless run (planfile-test-fail "no \"Run plan\" action"))
          (let* ((started (eglot-execute-command server (intern (plist-get command :command))
                                                 (plist-get command :arguments)))
                 (plan-id (plist-get started :planId)))
            (planfile-test-step "run started: plan %s, %s" plan-id (plist-get started :status))
            (let ((status (planfile-test-wait
                           "the run to finish"
                           (lambda ()
                             (let ((answer (eglot-execute-command server 'codelab-planner.status (vector plan-id))))
                               (and (not (equal (plist-get answer :status) "running"))
                                    (plist-get answer :status)))))))
              (planfile-test-step "run finished: %s" status)
              (unless (equal status "completed") (planfile-test-fail "the run ended %s" status)))))

        ;; 4. Hover on the second step shows its last run.
        (goto-char (point-min))
        (search-forward "id = \"world\"")
        (let* ((hover (jsonrpc-request (eglot-current-server) :textDocument/hover
                                       (eglot--TextDocumentPositionParams)))
               (text (plist-get (plist-get hover :contents) :value)))
          (planfile-test-step "hover: %s" (replace-regexp-in-string "\n+" " | " text))
          (unless (string-match-p "Last run: ✓ done" text) (planfile-test-fail "hover %S" text)))
        (eglot-shutdown (eglot-current-server))
        (planfile-test-step "done")
        (kill-emacs 0))
    (error (planfile-test-fail "%s" (error-message-string failure)))))

;;; planfile.el ends here
