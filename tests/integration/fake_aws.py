#!/usr/bin/env python3
"""A stand-in for the S3 and EC2 endpoints `vmfix aws-import` reaches through the aws CLI.

fake_aws.py DIR [--fail]: listens on 127.0.0.1 (the port goes to DIR/port), keeps uploaded objects
under DIR/objects/BUCKET/KEY and appends each call to DIR/calls.jsonl. An import task reports
"active" once, then "completed" (or, with --fail, "deleted" with a kernel error AWS gives).
"""
import http.server
import json
import os
import sys
import urllib.parse

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
directory = sys.argv[1]
fail = "--fail" in sys.argv[2:]
polls = {}
uploads = {}


def record(entry):
    with open(os.path.join(directory, "calls.jsonl"), "a") as log:
        log.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def object_path(self, path):
        return os.path.join(directory, "objects", urllib.parse.unquote(path.lstrip("/")))

    def do_PUT(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        data = self.body()
        if "uploadId" in query:
            uploads[query["uploadId"][0]][int(query["partNumber"][0])] = data
            record({"call": "UploadPart", "key": url.path, "bytes": len(data)})
        else:
            os.makedirs(os.path.dirname(self.object_path(url.path)), exist_ok=True)
            with open(self.object_path(url.path), "wb") as out:
                out.write(data)
            record({"call": "PutObject", "key": url.path, "bytes": len(data)})
        self.reply(200, "", [("ETag", '"etag"')])

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        data = self.body()
        if "uploads" in query:
            uploads["u1"] = {}
            record({"call": "CreateMultipartUpload", "key": url.path})
            return self.reply(200, "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>")
        if "uploadId" in query:
            parts = uploads.pop(query["uploadId"][0])
            os.makedirs(os.path.dirname(self.object_path(url.path)), exist_ok=True)
            with open(self.object_path(url.path), "wb") as out:
                for number in sorted(parts):
                    out.write(parts[number])
            record({"call": "CompleteMultipartUpload", "key": url.path, "parts": len(parts)})
            return self.reply(200, "<CompleteMultipartUploadResult><ETag>\"etag\"</ETag></CompleteMultipartUploadResult>")
        params = {k: v[0] for k, v in urllib.parse.parse_qs(data.decode()).items()}
        action = params.get("Action", "")
        record({"call": action, "params": params})
        self.ec2(action, params)

    def ec2(self, action, params):
        wrap = lambda inner: f'<{action}Response xmlns="{NS}"><requestId>r1</requestId>{inner}</{action}Response>'
        if action == "ImportImage":
            return self.reply(200, wrap("<importTaskId>import-ami-0001</importTaskId><status>active</status>"))
        if action == "ImportSnapshot":
            number = len([k for k in polls if k.startswith("import-snap")]) + 1
            polls[f"import-snap-{number:04}"] = 0
            return self.reply(200, wrap(f"<importTaskId>import-snap-{number:04}</importTaskId>"))
        task = params.get("ImportTaskId.1", "")
        if action in ("DescribeImportImageTasks", "DescribeImportSnapshotTasks") and not task.startswith("import-"):
            return self.reply(400, "<Response><Errors><Error><Code>InvalidConversionTaskId.Malformed</Code>"
                                   f"<Message>The conversion task ID '{task}' is malformed</Message></Error></Errors>"
                                   "<RequestID>r1</RequestID></Response>")
        polls[task] = polls.get(task, 0) + 1
        done = polls[task] > 1
        if action == "DescribeImportImageTasks":
            if not done:
                state = "<status>active</status><progress>30</progress><statusMessage>converting</statusMessage>"
            elif fail:
                state = ("<status>deleted</status><statusMessage>ClientError: Unsupported kernel version "
                         "5.14.0-70.el9.x86_64</statusMessage>")
            else:
                state = "<status>completed</status><progress>100</progress><imageId>ami-0c0ffee</imageId>"
            return self.reply(200, wrap(f"<importImageTaskSet><item><importTaskId>{task}</importTaskId>{state}"
                                        "</item></importImageTaskSet>"))
        if action == "DescribeImportSnapshotTasks":
            state = ("<status>completed</status><progress>100</progress>"
                     f"<snapshotId>snap-{task[-4:]}</snapshotId>" if done else "<status>active</status><progress>50</progress>")
            return self.reply(200, wrap(f"<importSnapshotTaskSet><item><importTaskId>{task}</importTaskId>"
                                        f"<snapshotTaskDetail>{state}</snapshotTaskDetail></item></importSnapshotTaskSet>"))
        if action == "RegisterImage":
            return self.reply(200, wrap("<imageId>ami-0feed</imageId>"))
        self.reply(400, f"<Response><Errors><Error><Code>InvalidAction</Code><Message>{action}</Message></Error></Errors></Response>")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(directory, "port.tmp"), "w") as out:
    out.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
